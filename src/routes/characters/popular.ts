import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";
import { publicReads } from "../../cache/public-reads";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { parseOr400 } from "../../http/validate";
import type { AppEnv } from "../../types";
import { CharacterSchema, PopularQuery } from "./schemas";

/** API.md allows popular characters to be up to 300 s stale (the old `@cache(expire=300)`). */
const MAX_AGE_S = 300;

const route = defineRoute({
  method: "get",
  path: "/characters/popular",
  summary: "Public characters by chat count (cached up to 300 s)",
  tags: ["characters"],
  zone: "api",
  request: { query: PopularQuery },
  responses: {
    200: jsonResponse(z.object({ items: z.array(CharacterSchema) }), "Most chatted characters"),
  },
});

/** `PopularQuery` of an empty query string: what nearly every call (the home page's) asks. */
const DEFAULT_LIMIT = PopularQuery.parse({}).limit;

/**
 * The validated `limit`: the default without parsing when the URL has no query string, else
 * `PopularQuery` as the route's validator would run it (the same value from `c.req.queries()`,
 * the same 400 `invalid_request` naming `query.limit`).
 */
function popularLimit(c: Context<AppEnv>): number {
  const url = c.req.url;
  const q = url.indexOf("?");
  if (q === -1 || q === url.length - 1) return DEFAULT_LIMIT;
  const query = Object.fromEntries(
    Object.entries(c.req.queries()).map(([k, v]) => (v.length === 1 ? [k, v[0]] : [k, v])),
  );
  return parseOr400(PopularQuery, query, "query string", "query").limit;
}

/**
 * Served from the isolate's own tier (src/cache/public-reads.ts), then the Cache API: a warm
 * hit touches no database. The cache key depends only on the validated `limit`, so junk query
 * strings cannot fill the cache.
 *
 * Declared in the OpenAPI document like every route (`route`, its query schema included), but
 * mounted without `openapi()`'s query validator: that one parses every query, the empty one
 * too, through zod's async path (promises per request on the hottest public read);
 * `popularLimit` validates with the same schema and the same problem.
 */
const app = routes();
const { middleware, hide: _hide, ...documented } = route as typeof route & { hide?: boolean };
app.openAPIRegistry.registerPath(documented);
/** `app.get` with the route's middleware list spread in (its overloads type a fixed count). */
type Mount = (path: string, ...handlers: MiddlewareHandler<AppEnv>[]) => typeof app;
export const popularCharacters = (app.get as unknown as Mount).call(
  app,
  "/characters/popular",
  ...(middleware as MiddlewareHandler<AppEnv>[]),
  async (c) => {
    const limit = popularLimit(c);
    // The cached copy is the typed body below, replayed byte for byte.
    return publicReads.get(
      `popular:${limit}`,
      () => fromCache(c, limit),
      c.executionCtx,
      c.req.raw.headers.get("Accept-Encoding"),
    );
  },
);

async function fromCache(c: Context<AppEnv>, limit: number): Promise<Response> {
  const cacheKey = new Request(`https://popular-characters.cache/v1?limit=${limit}`);
  const cache = caches.default;
  const hit = await cache.match(cacheKey);
  if (hit) return new Response(hit.body, hit);

  const items = await c.var.services.repo.characters.popular(limit);
  // `Date` lets the isolate tier never serve past max-age (API.md's 300 s).
  const response = c.json({ items }, 200, {
    "Cache-Control": `public, max-age=${MAX_AGE_S}`,
    Date: new Date().toUTCString(),
  });
  c.executionCtx.waitUntil(cache.put(cacheKey, response.clone()));
  return response;
}
