import type { Context } from "hono";
import type { AppEnv } from "../types";

const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's id: a well-formed `X-Request-Id` echoed (anything else is replaced, so logs
 * stay clean), set as `c.var.requestId`. The front door (src/middleware/front-door.ts) sends
 * it back as `X-Request-Id` on every response.
 */
export function assignRequestId(c: Context<AppEnv>): string {
  const given = c.req.raw.headers.get("X-Request-Id");
  const id = given && VALID_ID.test(given) ? given : crypto.randomUUID();
  c.set("requestId", id);
  return id;
}
