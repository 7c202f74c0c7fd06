import type { Context } from "hono";
import type { AppEnv } from "../types";

/** Headers to set: a list of name/value pairs (cheapest to walk), or a record. */
export type HeadersToSet = readonly (readonly [string, string])[] | Readonly<Record<string, string>>;

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
export function setResponseHeaders(c: Context<AppEnv>, headers: HeadersToSet): void {
  try {
    setAll(c.res.headers, headers);
  } catch {
    c.res = new Response(c.res.body, c.res);
    setAll(c.res.headers, headers);
  }
}

/** `setResponseHeaders` for one header: no list or record built per call. */
export function setResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}

function setAll(target: Headers, headers: HeadersToSet): void {
  if (isList(headers)) {
    for (let i = 0; i < headers.length; i++) {
      const pair = headers[i] as readonly [string, string];
      target.set(pair[0], pair[1]);
    }
  } else {
    for (const name in headers) target.set(name, headers[name] as string);
  }
}

function isList(headers: HeadersToSet): headers is readonly (readonly [string, string])[] {
  return Array.isArray(headers);
}
