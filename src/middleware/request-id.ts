import type { Context } from "hono";
import type { AppEnv } from "../types";

const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's id, set as `c.var.requestId`: a well-formed `X-Request-Id` echoed (anything
 * else is replaced, so logs stay clean); else the request's `CF-Ray`, Cloudflare's own id of
 * it (on every request it proxies), so a log line or a problem body names the request as
 * Cloudflare's dashboard and support do; else a random UUID (local dev, tests). The front door
 * (src/middleware/front-door.ts) sends it back as `X-Request-Id` on every response.
 *
 * The Ray ID also spares the edge a `crypto.randomUUID()` per request: 9 % of a cached read's
 * isolate CPU in bench/api/CPU-session10-2.md.
 */
export function assignRequestId(c: Context<AppEnv>): string {
  const headers = c.req.raw.headers;
  const id = usable(headers.get("X-Request-Id")) ?? usable(headers.get("CF-Ray")) ?? crypto.randomUUID();
  c.set("requestId", id);
  return id;
}

function usable(id: string | null): string | null {
  return id && VALID_ID.test(id) ? id : null;
}
