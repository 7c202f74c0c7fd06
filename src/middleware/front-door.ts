import { createMiddleware } from "hono/factory";
import { setResponseHeader } from "../http/response-headers";
import { addSecureHeaders } from "../http/static-headers";
import { logRequest } from "../ops/request-log";
import type { AppEnv } from "../types";
import { addApiCors, isApiPath, preflight } from "./cors";
import { assignRequestId } from "./request-id";
import { closeServices, openServices } from "./services";

/**
 * Every request's cross-cutting work, in one middleware, in the order the five separate ones
 * ran (outermost first): the request log (`logRequest`, timed from here), the request id
 * (`assignRequestId`, echoed as `X-Request-Id`), the secure headers (`addSecureHeaders`:
 * fewer on `/api`), CORS on `/api` paths (a preflight answered here; `addApiCors` after the
 * handler) and the request's services (`openServices`/`closeServices`).
 *
 * Why one: each middleware Hono composes costs an async frame of its own and one of
 * `compose`'s `dispatch` per request, all alive across the handler's awaits; five of them
 * were ~2.4 KB of the ~10.9 KB a cached popular read allocates (bench/api/RESULTS-session9.md).
 * A handler's error is already a response when `next()` returns (Hono's `onError` runs
 * inside `compose`), so the steps after it see what they saw before.
 *
 * @example
 * app.use("*", frontDoor);
 */
export const frontDoor = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  const id = assignRequestId(c);
  const api = isApiPath(c.req.path);
  if (api && c.req.method === "OPTIONS") {
    c.res = preflight();
  } else {
    const built = openServices(c);
    try {
      await next();
    } finally {
      closeServices(built);
    }
    if (api) addApiCors(c);
  }
  addSecureHeaders(c, api);
  setResponseHeader(c, "X-Request-Id", id);
  logRequest(c, started);
});
