import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { R2ImageStore } from "../../src/storage/r2-store";
import { bytesOf, digestHex, pngBytes, uniqueKey } from "./env";

describe("R2ImageStore on the IMAGES binding", () => {
  const store = new R2ImageStore(env.IMAGES);

  it("stores PNG bytes and reads them back with content type, etag and size", async () => {
    const png = pngBytes();
    const key = uniqueKey();

    const { etag } = await store.put(key, png, "image/png");
    const image = await store.get(key);

    const head = await env.IMAGES.head(key);
    expect(etag).toBe(head?.httpEtag);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(head?.httpMetadata?.cacheControl).toBe("public, max-age=31536000, immutable");
    expect(image?.contentType).toBe("image/png");
    expect(image?.etag).toBe(etag);
    expect(image?.size).toBe(png.byteLength);
    const stored = await bytesOf(image?.body ?? new ArrayBuffer(0));
    expect(await digestHex("SHA-256", stored)).toBe(await digestHex("SHA-256", png));
  });

  it("returns null for a key that was never stored", async () => {
    expect(await store.get(uniqueKey())).toBeNull();
  });

  it("deletes an object so that it can no longer be read", async () => {
    const key = uniqueKey();
    await store.put(key, new Uint8Array([1, 2, 3]), "application/octet-stream");

    await store.delete(key);

    expect(await store.get(key)).toBeNull();
    expect(await env.IMAGES.head(key)).toBeNull();
  });
});
