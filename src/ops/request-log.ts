import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../types";
import { log } from "./log";
import { writeMetric } from "./metrics";
import { loggablePath } from "./redact";
import { reportError } from "./sentry";

/** The line `requestLog` writes; field names are what `wrangler tail --search` and jq filters use. */
export interface RequestLogLine {
  level: "info" | "error";
  msg: "request";
  request_id: string;
  method: string;
  /** The Hono route pattern (`/api/v1/characters/:id`), or null when no route matched. */
  route: string | null;
  path: string;
  status: number;
  duration_ms: number;
  user_id: string | null;
  /** `by`: `lease` when a token the isolate was leased decided (no limiter call), else `shard`. */
  rate_limit: { zone: string; allowed: boolean; remaining: number; by: "lease" | "shard" } | null;
  /** How many requests this line stands for: 1 for a line always kept, N for a routine one kept 1 in N. */
  weight: number;
}

/**
 * One JSON line (Workers Logs indexes each field) and one `request` data point per request
 * worth reading one by one, and per sampled routine one (`requestWeight`). Built from an
 * allow-list: no header, query string, body or credential ever reaches it, and the path goes
 * through `loggablePath` (webhook secrets, image keys). A 5xx is logged at `error` level and,
 * when Sentry is on, reported with its request id.
 *
 * Called by the front door (src/middleware/front-door.ts) once the response is final, with
 * the time the request started.
 *
 * @example
 * logRequest(c, started);
 */
export function logRequest(c: Context<AppEnv>, started: number): void {
  const status = c.res.status;
  const duration = Date.now() - started;
  const weight = requestWeight(status, duration, (c.env as OptionalVars).LOG_SAMPLE_RATE);
  if (weight === 0) return;
  const level = status >= 500 ? "error" : "info";
  const fields: Omit<RequestLogLine, "level" | "msg"> = {
    request_id: c.get("requestId") ?? "",
    method: c.req.method,
    route: routePattern(c),
    path: loggablePath(c.req.path),
    status,
    duration_ms: duration,
    user_id: c.get("user")?.id ?? null,
    rate_limit: c.get("rateLimit") ?? null,
    weight,
  };
  log.at(level, "request", fields);
  const { route, rate_limit } = fields;
  writeMetric(
    c.env,
    "request",
    [
      route ?? "(unmatched)",
      fields.method,
      String(status),
      rate_limit?.zone ?? "",
      rate_limit ? (rate_limit.allowed ? "allowed" : "rejected") : "",
    ],
    [weight, duration, status],
  );
  if (c.error && status >= 500) reportError(c.error, { request_id: fields.request_id, route });
}

/** Vars with embedded defaults, absent from wrangler.toml (so not in the generated `Env`). */
type OptionalVars = { LOG_SAMPLE_RATE?: string };

/** Requests slower than this are always kept: a slow success is worth reading one by one. */
export const SLOW_REQUEST_MS = 1_000;

/**
 * How many requests this one's line and data point stand for, 0 when it gets neither.
 * Kept always (weight 1): a 5xx, a 4xx other than 429 (a client's mistake, or an attack, to
 * read one by one; problem bodies hand their `request_id` to users) and anything slower than
 * `SLOW_REQUEST_MS`. The routine rest (2xx, 3xx, 101 and 429, answers the service gives at
 * volume) is kept one in N, N = 1 / `LOG_SAMPLE_RATE`, with weight N, so
 * `SUM(_sample_interval * double1)` still counts every request. Why: on Workers Paid a log
 * line costs $0.60 and a data point $0.25 per million, 2.8x the $0.30 of the request they
 * describe (docs/cost.md).
 */
export function requestWeight(status: number, durationMs: number, rate: string | undefined): number {
  if ((status >= 400 && status !== 429) || durationMs >= SLOW_REQUEST_MS) return 1;
  const every = sampleEvery(rate);
  if (every === 1) return 1;
  return Math.random() * every < 1 ? every : 0;
}

/** The default `LOG_SAMPLE_RATE`: one routine request in 100 (README, docs/operations.md). */
export const DEFAULT_LOG_SAMPLE_RATE = 0.01;

let parsedRate: { raw: string | undefined; every: number } | undefined;

/**
 * `LOG_SAMPLE_RATE` (a fraction in (0, 1]) as "one in N", N a whole number, parsed once per
 * value. Anything else (unset, 0, negative, not a number) means the default.
 */
function sampleEvery(raw: string | undefined): number {
  if (parsedRate !== undefined && parsedRate.raw === raw) return parsedRate.every;
  const rate = raw === undefined || raw.trim() === "" ? Number.NaN : Number(raw);
  const valid = Number.isFinite(rate) && rate > 0 && rate <= 1 ? rate : DEFAULT_LOG_SAMPLE_RATE;
  const every = Math.max(1, Math.round(1 / valid));
  parsedRate = { raw, every };
  return every;
}

/**
 * The pattern of the route that answered: the handler Hono dispatched last (`routeIndex`)
 * when it is a route, else (a middleware answered, e.g. a 429) the first route that would
 * have run after it. Matches past that never ran (`/characters/popular` also matches
 * `/characters/:id`). No closure per request (this ran in the request log's 9 % of a
 * cached read's isolate time, bench/api/CPU.md).
 */
function routePattern(c: Context<AppEnv>): string | null {
  const routes = matchedRoutes(c);
  const last = Math.min(c.req.routeIndex, routes.length - 1);
  for (let i = Math.max(last, 0); i < routes.length; i++) {
    const route = routes[i];
    if (route !== undefined && route.method !== "ALL") return route.path;
  }
  return null;
}
