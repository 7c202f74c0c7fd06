import type { Context } from "hono";
import type { AppEnv } from "../types";
import { setResponseHeaders } from "./response-headers";

/** A header list as the `Headers` constructor takes it. */
export type HeaderList = readonly (readonly [string, string])[];

/**
 * What hono/secure-headers set with `secureHeaders({ crossOriginResourcePolicy: "cross-origin" })`
 * (hono 4.13), its defaults otherwise: the same names and values, in its order
 * (test/workers/static-headers.test.ts compares this list with hono's middleware). Every
 * response outside `/api` gets them: the app's pages, its scripts and styles, images.
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

/**
 * The part of `SECURE_HEADERS` that means something on a response no browser renders as a
 * document (JSON, problem+json, a 204, a WebSocket upgrade): what OWASP's REST Security Cheat
 * Sheet asks of an API response besides its `Content-Type` and `Cache-Control`. The others
 * (`Cross-Origin-Opener-Policy`, `Origin-Agent-Cluster`, `Referrer-Policy`,
 * `X-DNS-Prefetch-Control`, `X-Download-Options`, `X-XSS-Protection`, and the cross-origin
 * permissions for embedding, `Cross-Origin-Resource-Policy: cross-origin` and
 * `X-Permitted-Cross-Domain-Policies`) govern documents, plugins or embedding, which a CORS
 * read never is. Each header is memory of the runtime's own per response, destroyed inside a
 * garbage-collection pause (half of a Mark-Compact's pause was response headers): 8 fewer per
 * API answer are 8 fewer to destroy (bench/RESULTS.md, "Session 15").
 */
export const API_SECURE_HEADERS: HeaderList = SECURE_HEADERS.filter(([name]) =>
  ["Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"].includes(name),
);

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

/** Every header an `/api` response gets from `addSecureHeaders` and `addApiCors`, whatever the request. */
export const API_STATIC_HEADERS: HeaderList = [...API_SECURE_HEADERS, ...API_CORS_HEADERS];

/** Names `secureHeaders` removes from every response. */
const REMOVED = ["x-powered-by"];

/**
 * Responses built with `API_STATIC_HEADERS` already in them (the isolate tier's copies of a
 * kept read, src/cache/isolate-cache.ts): `secureHeaders` and `apiCors` leave them as they are
 * instead of setting the same 5 values again one by one (a call into the runtime each, the
 * largest share of header work in a cached read, bench/api/CPU-session7.md). Identity, not a
 * flag on the object: a response copied later (immutable headers) is set as any other.
 */
const prebuilt = new WeakSet<Response>();

/**
 * `headers` with `API_STATIC_HEADERS` in place: the names they set replace the response's own
 * (as `secureHeaders` overwrites); `X-Powered-By` and the page-only names of `SECURE_HEADERS`
 * go (a copy kept in the Cache API may predate them). Build it once per kept entry.
 */
export function withApiStaticHeaders(headers: HeaderList): [string, string][] {
  const replaced = new Set(
    [...SECURE_HEADERS, ...API_CORS_HEADERS].map(([name]) => name.toLowerCase()).concat(REMOVED),
  );
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
 * hono/secure-headers' policy set after the handler, overwriting, in place
 * (`setResponseHeaders`), `X-Powered-By` removed: `API_SECURE_HEADERS` on an `/api` response,
 * `SECURE_HEADERS` on any other. Nothing to do for a response that was built with them.
 */
export function addSecureHeaders(c: Context<AppEnv>, api: boolean): void {
  if (prebuilt.has(c.res)) return;
  setResponseHeaders(c, api ? API_SECURE_HEADERS : SECURE_HEADERS);
  c.res.headers.delete("X-Powered-By");
}
