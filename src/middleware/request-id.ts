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
  const given = headers.get("X-Request-Id");
  let id: string;
  if (given && VALID_ID.test(given)) id = given;
  else {
    const ray = headers.get("CF-Ray");
    id = ray && VALID_ID.test(ray) ? ray : crypto.randomUUID();
  }
  c.set("requestId", id);
  return id;
}
