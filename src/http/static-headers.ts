import type { Context } from "hono";
import type { AppEnv } from "../types";
import { setResponseHeaders } from "./response-headers";

/** A header list as the `Headers` constructor takes it. */
export type HeaderList = readonly (readonly [string, string])[];

/**
 * What hono/secure-headers set with `secureHeaders({ crossOriginResourcePolicy: "cross-origin" })`
 * (hono 4.13), its defaults otherwise: the same names and values, in its order
 * (test/workers/request-path.test.ts compares this list with hono's middleware).
 */
export const SECURE_HEADERS: HeaderList = [
  ["Cross-Origin-Resource-Policy", "cross-origin"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["Referrer-Policy", "no-referrer"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "SAMEORIGIN"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];

/** What every `/api` response carries: any origin may read it (bearer tokens, no cookies). */
export const API_CORS_HEADERS: HeaderList = [
  ["Access-Control-Allow-Origin", "*"],
  [
    "Access-Control-Expose-Headers",
    [
      "X-Request-Id",
      "Location",
      "Retry-After",
      "RateLimit-Limit",
      "RateLimit-Remaining",
      "RateLimit-Reset",
    ].join(","),
  ],
];

/** Every header an `/api` response gets from `secureHeaders` and `apiCors`, whatever the request. */
export const API_STATIC_HEADERS: HeaderList = [...SECURE_HEADERS, ...API_CORS_HEADERS];

/** Names `secureHeaders` removes from every response. */
const REMOVED = ["x-powered-by"];

/**
 * Responses built with `API_STATIC_HEADERS` already in them (the isolate tier's copies of a
 * kept read, src/cache/isolate-cache.ts): `secureHeaders` and `apiCors` leave them as they are
 * instead of setting the same 13 values again one by one (a call into the runtime each, the
 * largest share of header work in a cached read, bench/api/CPU-session7.md). Identity, not a
 * flag on the object: a response copied later (immutable headers) is set as any other.
 */
const prebuilt = new WeakSet<Response>();

/**
 * `headers` with `API_STATIC_HEADERS` in place: the names they set replace the response's own
 * (as `secureHeaders` overwrites), `X-Powered-By` goes. Build it once per kept entry.
 */
export function withApiStaticHeaders(headers: HeaderList): [string, string][] {
  const replaced = new Set([...API_STATIC_HEADERS.map(([name]) => name.toLowerCase()), ...REMOVED]);
  return [
    ...headers
      .filter(([name]) => !replaced.has(name.toLowerCase()))
      .map(([n, v]): [string, string] => [n, v]),
    ...API_STATIC_HEADERS.map(([n, v]): [string, string] => [n, v]),
  ];
}

/** Marks a response whose headers came from `withApiStaticHeaders` (see `prebuilt`). */
export function markApiStaticHeaders(response: Response): Response {
  prebuilt.add(response);
  return response;
}

/** Whether `response` was built with `API_STATIC_HEADERS` already in it. */
export function hasApiStaticHeaders(response: Response): boolean {
  return prebuilt.has(response);
}

/**
 * hono/secure-headers' policy (`SECURE_HEADERS`, `X-Powered-By` removed) set after the
 * handler, overwriting, in place (`setResponseHeaders`); nothing to do for a response that
 * was built with them.
 */
export function addSecureHeaders(c: Context<AppEnv>): void {
  if (prebuilt.has(c.res)) return;
  setResponseHeaders(c, SECURE_HEADERS);
  c.res.headers.delete("X-Powered-By");
}
