import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type Config, loadConfig } from "../config";
import { ApiError } from "../errors/api-error";
import { setResponseHeaders } from "../http/response-headers";
import { describeError, log } from "../ops/log";
import type { AppEnv } from "../types";
import { limiterFor } from "./binding";
import { clientKey } from "./client-ip";
import { IsolateLeases, type LeaseDecision } from "./isolate-lease";
import { leaseLocation } from "./location";
import { countEvent } from "./metrics";
import type { ConsumeRequest, ConsumeResult } from "./protocol";
import { failureMode, type Zone, zoneRule } from "./zones";

/** The tokens shards leased to this isolate, per client (zone `api` only). */
const leases = new IsolateLeases();

/**
 * Each zone's request (cost 1, the zone's rule) per configuration, built once: the config
 * object is itself cached per `env` (`loadConfig`), so a request allocates none of these.
 */
const requestsByConfig = new WeakMap<Config, Map<Zone, ConsumeRequest>>();

function consumeRequest(config: Config, zone: Zone): ConsumeRequest {
  let byZone = requestsByConfig.get(config);
  if (!byZone) {
    byZone = new Map();
    requestsByConfig.set(config, byZone);
  }
  let request = byZone.get(zone);
  if (!request) {
    request = Object.freeze({ zone, cost: 1, ...zoneRule(config, zone) });
    byZone.set(zone, request);
  }
  return request;
}

/**
 * Per-client rate limits (API.md, "Conventions"): one RPC to the client's `RateLimiter`
 * shard per limited request, or none when this isolate holds a token the shard leased it
 * for that client (zone `api`, `RATE_API_LEASE`; `isolate-lease.ts`). Over the limit: 429
 * `rate_limited` with `Retry-After`; every limited response, 2xx to 5xx, carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`.
 * Each route names its zone where it is defined (`defineRoute({ zone })`).
 *
 * @example
 * rateLimit("strict") // one route's middleware
 */
export const rateLimit = (zoneOrZones: Zone | readonly Zone[]) => {
  const zones: readonly Zone[] = typeof zoneOrZones === "string" ? [zoneOrZones] : zoneOrZones;
  return createMiddleware<AppEnv>(async (c, next) => {
    // Decided in a function of its own: only the headers are held across `next()` (what a
    // request keeps alive while it waits is what the garbage collector promotes). A token
    // leased to this isolate answers without `decide`'s async frame and promise.
    let headers: Record<string, string> | null | undefined =
      zones.length === 1 ? decideFromLease(c, zones[0] as Zone) : undefined;
    if (headers === undefined) headers = await decide(c, zones);
    await next();
    if (headers) setResponseHeaders(c, headers);
  });
};

/**
 * `decide` for one zone when a token this isolate holds answers it (the same `spendHeld` that
 * is `decide`'s first step, so the same decision and headers); `undefined` when no held token
 * can answer, and nothing was spent: `decide` then runs in full.
 */
function decideFromLease(c: Context<AppEnv>, zone: Zone): Record<string, string> | undefined {
  const config = loadConfig(c.env);
  const key = clientKey(c.req.raw.headers, config.CLIENT_IP_HEADER);
  const decision = leases.spendHeld(
    leaseId(zone, leaseLocation(c.req.raw), key),
    consumeRequest(config, zone).cost,
  );
  if (!decision) return undefined;
  c.set("rateLimit", { zone, allowed: true, remaining: decision.remaining, by: decision.by });
  return rateLimitHeaders(decision);
}

/** The lease of one client at one location (`leaseLocation`) in one zone. */
function leaseId(zone: Zone, location: unknown, key: string): string {
  return `${zone}\n${String(location)}\n${key}`;
}

/**
 * Each zone takes its token in turn; the first refusal answers (throws the 429), otherwise
 * the headers are those of the zone with the fewest tokens left (the tighter one); null when
 * every zone's limiter was unreachable and its failure mode let the request through.
 */
async function decide(c: Context<AppEnv>, zones: readonly Zone[]): Promise<Record<string, string> | null> {
  const config = loadConfig(c.env);
  let tightest: { zone: Zone; decision: LeaseDecision } | undefined;
  // The client's key is found once per request, whatever the number of zones; its shard's
  // stub only when a decision needs the shard (not when a leased token answers).
  const key = clientKey(c.req.raw.headers, config.CLIENT_IP_HEADER);
  const location = leaseLocation(c.req.raw);
  let ask: ((request: ConsumeRequest) => Promise<ConsumeResult>) | undefined;
  for (const zone of zones) {
    const request = consumeRequest(config, zone);
    const id = leaseId(zone, location, key);
    // A token leased to this isolate answers without a promise or a call.
    let decision = leases.spendHeld(id, request.cost);
    if (!decision) {
      try {
        ask ??= shardAsker(c.env, key, c.req.raw);
        const leaseSize = zone === "api" ? config.RATE_API_LEASE : 0;
        decision = await leases.consume(id, request, leaseSize, ask);
      } catch (error) {
        limiterUnreachable(c, zone, failureMode(config, zone), error);
        continue;
      }
    }
    if (!decision.allowed) {
      c.set("rateLimit", { zone, allowed: false, remaining: decision.remaining, by: decision.by });
      countEvent(c.env, "rate_limited", zone);
      throw new ApiError(429, "rate_limited", `Too many requests; retry in ${decision.retryAfterS} s.`, {
        headers: { ...rateLimitHeaders(decision), "Retry-After": String(decision.retryAfterS) },
      });
    }
    if (!tightest || decision.remaining < tightest.decision.remaining) tightest = { zone, decision };
  }
  if (!tightest) return null;
  const { zone, decision } = tightest;
  c.set("rateLimit", { zone, allowed: true, remaining: decision.remaining, by: decision.by });
  return rateLimitHeaders(decision);
}

/**
 * `consume` on the client's shard, the one of the location `request.cf.colo` names; its stub
 * is made, and `cf` read, on the first call.
 */
function shardAsker(
  env: Env,
  key: string,
  incoming: Request,
): (request: ConsumeRequest) => Promise<ConsumeResult> {
  let limiter: ReturnType<typeof limiterFor> | undefined;
  return (request) => {
    limiter ??= limiterFor(env, key, incoming.cf?.colo);
    return limiter.consume(request);
  };
}

export function rateLimitHeaders(decision: ConsumeResult): Record<string, string> {
  return {
    "RateLimit-Limit": String(decision.limit),
    "RateLimit-Remaining": String(decision.remaining),
    "RateLimit-Reset": String(decision.resetS),
  };
}

/**
 * The zone's failure mode (`failureMode`) when the RPC fails (object overloaded, resetting, unreachable):
 * `open` lets the request through without `RateLimit-*` headers, `closed` answers 503.
 * Either way one JSON log line and one `rate_limiter_unreachable` data point.
 */
function limiterUnreachable(c: Context<AppEnv>, zone: Zone, mode: "open" | "closed", error: unknown): void {
  log.warn("rate limiter unreachable", {
    request_id: c.get("requestId"),
    zone,
    failure_mode: mode,
    error: describeError(error),
  });
  countEvent(c.env, "rate_limiter_unreachable", zone, mode);
  if (mode === "closed") {
    throw new ApiError(503, "upstream_unavailable", "Rate limiting is unavailable; retry shortly.", {
      headers: { "Retry-After": "1" },
    });
  }
}
