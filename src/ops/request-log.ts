import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
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
}

/**
 * One JSON line per request (Workers Logs indexes each field) and one `request` data point.
 * Built from an allow-list: no header, query string, body or credential ever reaches it, and
 * the path goes through `loggablePath` (webhook secrets, image keys). A 5xx is logged at
 * `error` level and, when Sentry is on, reported with its request id.
 *
 * @example
 * app.use("*", requestLog);
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  const status = c.res.status;
  const level = status >= 500 ? "error" : "info";
  const fields: Omit<RequestLogLine, "level" | "msg"> = {
    request_id: c.get("requestId") ?? "",
    method: c.req.method,
    route: routePattern(c),
    path: loggablePath(c.req.path),
    status,
    duration_ms: Date.now() - started,
    user_id: c.get("user")?.id ?? null,
    rate_limit: c.get("rateLimit") ?? null,
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
    [1, fields.duration_ms, status],
  );
  if (c.error && status >= 500) reportError(c.error, { request_id: fields.request_id, route });
});

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
