import { z } from "zod";
import { defineRoute, jsonResponse, routes } from "../../http/route";
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
 * Served from the Cache API: a warm hit touches no database. The cache key depends only on
 * the validated `limit`, so junk query strings cannot fill the cache.
 */
export const popularCharacters = routes().openapi(route, async (c) => {
  const { limit } = c.req.valid("query");
  const cacheKey = new Request(`https://popular-characters.cache/v1?limit=${limit}`);
  const cache = caches.default;
  const hit = await cache.match(cacheKey);
  // The cached copy is the typed body below, replayed byte for byte.
  if (hit) return new Response(hit.body, hit) as never;

  const items = await c.var.services.repo.characters.popular(limit);
  const response = c.json({ items }, 200, { "Cache-Control": `public, max-age=${MAX_AGE_S}` });
  c.executionCtx.waitUntil(cache.put(cacheKey, response.clone()));
  return response;
});
