import { createMiddleware } from "hono/factory";
import { setResponseHeaders } from "../http/response-headers";
import type { AppEnv } from "../types";

const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echoes a well-formed `X-Request-Id` (anything else is replaced, so logs stay clean). */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const given = c.req.header("X-Request-Id");
  const id = given && VALID_ID.test(given) ? given : crypto.randomUUID();
  c.set("requestId", id);
  await next();
  setResponseHeaders(c, { "X-Request-Id": id });
});
