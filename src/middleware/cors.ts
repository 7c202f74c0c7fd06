import type { Context } from "hono";
import { setResponseHeaders } from "../http/response-headers";
import { API_CORS_HEADERS, hasApiStaticHeaders } from "../http/static-headers";
import type { AppEnv } from "../types";

/** A preflight's answer, the same for every request: built once. */
const PREFLIGHT = {
  ...Object.fromEntries(API_CORS_HEADERS),
  "Access-Control-Max-Age": "86400",
  "Access-Control-Allow-Methods": "GET,POST,PATCH,DELETE,OPTIONS",
  "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key,X-Request-Id",
  Vary: "Access-Control-Request-Headers",
} as const;

/**
 * The paths CORS applies to: what Hono's `app.use("/api/*")` matched (`/api` itself and
 * everything under `/api/`, case-sensitive), on the same `c.req.path` the router saw.
 */
export function isApiPath(path: string): boolean {
  return path.startsWith("/api") && (path.length === 4 || path.charCodeAt(4) === 47);
}

/**
 * CORS for `/api/*`, the policy hono/cors was configured with (any origin; the methods and
 * request headers the API takes; the response headers clients read: `API_CORS_HEADERS`),
 * without its per-request cost: hono/cors sets headers on `c.res` before the handler runs,
 * which makes Hono build a placeholder Response and copy the handler's into it. Here a
 * preflight is answered at once (`preflight`) and every other response gets its two headers
 * after the handler (`addApiCors`, unless it was built with them: `hasApiStaticHeaders`).
 */
export function preflight(): Response {
  return new Response(null, { status: 204, headers: PREFLIGHT });
}

/** The two CORS headers on the handler's response, after it ran (see `preflight`). */
export function addApiCors(c: Context<AppEnv>): void {
  if (!hasApiStaticHeaders(c.res)) setResponseHeaders(c, API_CORS_HEADERS);
}
