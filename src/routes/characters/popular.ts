import type { Context } from "hono";
import { z } from "zod";
import { publicReads } from "../../cache/public-reads";
import { defineRoute, jsonResponse, routes } from "../../http/route";
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

/**
 * Served from the isolate's own tier (src/cache/public-reads.ts), then the Cache API: a warm
 * hit touches no database. The cache key depends only on the validated `limit`, so junk query
 * strings cannot fill the cache.
 */
export const popularCharacters = routes().openapi(route, async (c) => {
  const { limit } = c.req.valid("query");
  // The cached copy is the typed body below, replayed byte for byte.
  const accept = c.req.raw.headers.get("Accept-Encoding");
  return (await publicReads.get(
    `popular:${limit}`,
    () => fromCache(c, limit),
    c.executionCtx,
    accept,
  )) as never;
});

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
