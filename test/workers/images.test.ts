import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { imageKey, imageUrl } from "../../src/generation/image-keys";

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const config = { JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789", IMAGE_KEY_SECRET: undefined };

async function storedImage(
  jobId = `gen_${"0".repeat(10)}${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`,
) {
  const key = await imageKey(config, jobId, 0, "png");
  await env.IMAGES.put(key, PNG, { httpMetadata: { contentType: "image/png" } });
  return { key, url: `http://127.0.0.1:8787/${key}` };
}

describe("GET /images/<key>", () => {
  it("serves the bytes with Content-Type, ETag and immutable caching", async () => {
    const { url } = await storedImage();
    const res = await SELF.fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("image/png");
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("ETag")).toMatch(/^"[^"]+"$/);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(PNG);
  });

  it("answers 304 to a matching If-None-Match, from the store and from the cache", async () => {
    const { url } = await storedImage();
    const first = await SELF.fetch(url);
    const etag = first.headers.get("ETag") ?? "";
    await first.arrayBuffer();
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await SELF.fetch(url, { headers: { "If-None-Match": header } });
      expect(res.status, header).toBe(304);
      expect(res.headers.get("ETag")).toBe(etag);
      expect(await res.text()).toBe("");
    }
    const stale = await SELF.fetch(url, { headers: { "If-None-Match": '"something-else"' } });
    expect(stale.status).toBe(200);
  });

  it("keeps serving from the edge cache after the object is gone from the store", async () => {
    const { key, url } = await storedImage();
    expect((await SELF.fetch(url)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await env.IMAGES.delete(key);
    const cached = await SELF.fetch(url);
    expect(cached.status).toBe(200);
    expect(new Uint8Array(await cached.arrayBuffer())).toEqual(PNG);
  });

  it("answers HEAD without a body", async () => {
    const { url } = await storedImage();
    const res = await SELF.fetch(url, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("image/png");
    expect(await res.text()).toBe("");
  });

  it("answers 404 problem+json for an unknown key of the right shape", async () => {
    const key = await imageKey(config, `gen_${"1".repeat(26)}`, 0, "png");
    const res = await SELF.fetch(`http://127.0.0.1:8787/${key}`);
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    expect((await res.json<{ code: string }>()).code).toBe("not_found");
  });

  it.each([
    "/images/abc/gen_x-0.png",
    `/images/${"a".repeat(40)}/..%2F..%2Fsecret.png`,
    `/images/${"A".repeat(40)}/gen_${"0".repeat(26)}-0.png`,
    `/images/${"a".repeat(40)}/gen_${"0".repeat(26)}-0.exe`,
    `/images/${"a".repeat(40)}/gen_${"0".repeat(26)}-0.png/extra`,
  ])("answers 404 for a malformed key %s", async (path) => {
    const res = await SELF.fetch(`http://127.0.0.1:8787${path}`);
    expect(res.status).toBe(404);
  });
});

describe("image keys and URLs", () => {
  it("derive the same unguessable key for the same job, another for another job or secret", async () => {
    const a = await imageKey(config, "gen_01kdx0000000000000000000", 0, "png");
    expect(a).toMatch(/^images\/[0-9a-f]{40}\/gen_01kdx0000000000000000000-0\.png$/);
    expect(await imageKey(config, "gen_01kdx0000000000000000000", 0, "png")).toBe(a);
    expect(await imageKey(config, "gen_01kdx0000000000000000001", 0, "png")).not.toBe(
      a.replace("000-0", "001-0"),
    );
    const other = await imageKey(
      { ...config, IMAGE_KEY_SECRET: "another-secret" },
      "gen_01kdx0000000000000000000",
      0,
      "png",
    );
    expect(other.split("/")[1]).not.toBe(a.split("/")[1]);
  });

  it("use IMAGE_CDN_BASE_URL as the origin when set", () => {
    const key = `images/${"a".repeat(40)}/gen_${"0".repeat(26)}-0.png`;
    expect(imageUrl({ PUBLIC_BASE_URL: "https://art.example.com", IMAGE_CDN_BASE_URL: undefined }, key)).toBe(
      `https://art.example.com/${key}`,
    );
    expect(
      imageUrl(
        { PUBLIC_BASE_URL: "https://art.example.com", IMAGE_CDN_BASE_URL: "https://cdn.example.net/" },
        key,
      ),
    ).toBe(`https://cdn.example.net/${key}`);
  });
});
