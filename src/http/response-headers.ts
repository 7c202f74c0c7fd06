import type { Context } from "hono";
import type { AppEnv } from "../types";

/**
 * Sets headers on the response a handler produced, after `await next()`, in place.
 *
 * Middleware must not use `c.header()` there, nor touch `c.res` before `next()`: Hono then
 * copies the whole Response (a placeholder before, a copy to make it mutable after), which
 * was two `new Response` per request and the largest single cost of a cached read after the
 * limiter (bench/api/CPU.md). A response passed through from elsewhere (the Cache API, a
 * fetch) or a WebSocket upgrade (101) can have immutable headers: that one, and only that
 * one, is copied (`new Response(body, response)` keeps the socket of a 101).
 */
export function setResponseHeaders(c: Context<AppEnv>, headers: Readonly<Record<string, string>>): void {
  try {
    for (const name in headers) c.res.headers.set(name, headers[name] as string);
  } catch {
    c.res = new Response(c.res.body, c.res);
    for (const name in headers) c.res.headers.set(name, headers[name] as string);
  }
}
