import { z } from "zod";
import { ApiError } from "../errors/api-error";
import { isImageKey } from "../generation/image-keys";
import { defineRoute, routes } from "../http/route";
import { RecentMisses } from "../lib/recent-misses";

/** Keys never change content (API.md: stable for the life of the image). */
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * Keys the store lately did not have, per isolate: a flood of made-up (well-formed) keys costs
 * one storage read per key per 10 s, not one per request. Safe because a key is only ever
 * published (in a job's images) after its bytes are stored, so a real key is never missing.
 */
const missing = new RecentMisses(10_000, 2_000);
/** Clients and the CDN may remember a 404 briefly too. */
const NEGATIVE_CACHE_CONTROL = "public, max-age=10";

/** RFC 9110 weak comparison against an `If-None-Match` list (or `*`). */
function matchesEtag(ifNoneMatch: string | undefined, etag: string | null): boolean {
  if (!ifNoneMatch || !etag) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}

/** Outside `/api/v1`: served like static files, never rate limited. */
const route = defineRoute({
  method: "get",
  path: "/images/{token}/{file}",
  summary:
    "A generated image (immutable; ETag and If-None-Match honoured); the URL comes from a job's images",
  tags: ["images"],
  zone: null,
  // Any shape is accepted here; a key that is not an image's is a 404, before any storage call.
  request: { params: z.object({ token: z.string(), file: z.string() }) },
  responses: {
    200: {
      description: "The image bytes",
      content: { "image/png": { schema: z.string().describe("PNG, JPEG or WebP bytes") } },
    },
    304: { description: "Not modified (If-None-Match matched the ETag)" },
  },
});

/**
 * `GET /images/<token>/<file>`: generated images, byte for byte, from the edge cache or the
 * store. The URL path is the storage key, so a CDN whose origin is the bucket serves the
 * same paths (IMAGE_CDN_BASE_URL). The key's shape is checked before any storage call.
 */
export const images = routes().openapi(route, async (c) => {
  const { token, file } = c.req.valid("param");
  const key = `images/${token}/${file}`;
  if (!isImageKey(key) || missing.has(key, Date.now())) throw imageNotFound();
  // One cache entry per key: no query string, no conditional headers.
  const cacheKey = new Request(new URL(`/${key}`, c.req.url).toString());
  const cache = caches.default;
  let response = await cache.match(cacheKey);
  if (!response) {
    const stored = await c.var.services.images.get(key);
    if (!stored) {
      missing.add(key, Date.now());
      throw imageNotFound();
    }
    response = new Response(stored.body, {
      headers: {
        "Content-Type": stored.contentType,
        "Content-Length": String(stored.size),
        ETag: stored.etag,
        "Cache-Control": IMMUTABLE,
      },
    });
    c.executionCtx.waitUntil(cache.put(cacheKey, response.clone()));
  }
  const etag = response.headers.get("ETag");
  if (matchesEtag(c.req.header("If-None-Match"), etag)) {
    await response.body?.cancel();
    return new Response(null, { status: 304, headers: { ETag: etag ?? "", "Cache-Control": IMMUTABLE } });
  }
  // A copy: responses from the cache have immutable headers, and middleware adds its own.
  return new Response(response.body, response);
});

function imageNotFound(): ApiError {
  return new ApiError(404, "not_found", "No such image.", {
    headers: { "Cache-Control": NEGATIVE_CACHE_CONTROL },
  });
}
