import { type Context, Hono } from "hono";
import { z } from "zod";
import { publicReads } from "../../cache/public-reads";
import { documentRoute } from "../../http/openapi";
import { query } from "../../http/validate";
import type { AppEnv } from "../../types";
import { CharacterSchema, PopularQuery } from "./schemas";

/** API.md allows popular characters to be up to 300 s stale (the old `@cache(expire=300)`). */
const MAX_AGE_S = 300;

documentRoute({
  method: "get",
  path: "/api/v1/characters/popular",
  summary: "Public characters by chat count (cached up to 300 s)",
  tag: "characters",
  query: PopularQuery,
  responses: {
    200: { description: "Most chatted characters", schema: z.object({ items: z.array(CharacterSchema) }) },
  },
});

/**
 * Served from the Cache API: a warm hit touches no database. The cache key depends only on
 * the validated `limit`, so junk query strings cannot fill the cache.
 */
export const popularCharacters = new Hono<AppEnv>().get("/characters/popular", async (c) => {
  const { limit } = query(c, PopularQuery);
  return publicReads.get(`popular:${limit}`, () => fromCache(c, limit), c.executionCtx);
});

async function fromCache(c: Context<AppEnv>, limit: number): Promise<Response> {
  const cacheKey = new Request(`https://popular-characters.cache/v1?limit=${limit}`);
  const cache = caches.default;
  const hit = await cache.match(cacheKey);
  if (hit) return new Response(hit.body, hit);

  const items = await c.var.services.repo.characters.popular(limit);
  const response = new Response(JSON.stringify({ items }), {
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": `public, max-age=${MAX_AGE_S}`,
      Date: new Date().toUTCString(),
    },
  });
  c.executionCtx.waitUntil(cache.put(cacheKey, response.clone()));
  return response;
}
