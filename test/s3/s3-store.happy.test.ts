import { AwsClient } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { ensureBucket, S3ImageStore } from "../../src/storage/s3-store";
import { bytesOf, digestHex, pngBytes, s3Options, uniqueKey } from "./env";

describe("S3ImageStore against a SigV4-checking S3 server", () => {
  const store = new S3ImageStore(s3Options());

  it("stores PNG bytes and reads them back with content type, etag and size", async () => {
    const png = pngBytes();
    const key = uniqueKey();

    const { etag } = await store.put(key, png, "image/png");
    const image = await store.get(key);

    expect(etag).toBe(`"${await digestHex("MD5", png)}"`);
    expect(image).not.toBeNull();
    expect(image?.contentType).toBe("image/png");
    expect(image?.etag).toBe(etag);
    expect(image?.size).toBe(png.byteLength);
    const stored = await bytesOf(image?.body ?? new ArrayBuffer(0));
    expect(stored.subarray(0, 8)).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(stored.byteLength).toBe(png.byteLength);
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
  });

  it("treats deleting a missing key as success", async () => {
    await expect(store.delete(uniqueKey())).resolves.toBeUndefined();
  });

  it("stores keys with slashes as nested path-style objects", async () => {
    const prefix = uniqueKey("nested");
    const deep = `${prefix}/deeper/image one+two.png`;
    const shallow = `${prefix}/image.png`;
    await store.put(deep, new Uint8Array([1]), "image/png");
    await store.put(shallow, new Uint8Array([2, 2]), "image/png");

    expect((await store.get(deep))?.size).toBe(1);
    expect((await store.get(shallow))?.size).toBe(2);
    const options = s3Options();
    const aws = new AwsClient({ ...options, service: "s3", retries: 0 });
    const raw = await aws.fetch(
      `${options.endpoint}/${options.bucket}/${prefix}/deeper/${encodeURIComponent("image one+two.png")}`,
    );
    expect(raw.status).toBe(200);
    expect(new Uint8Array(await raw.arrayBuffer())).toEqual(new Uint8Array([1]));
  });

  it.each(["a//b.png", "a/../b.png", "./b.png", "a/", ""])(
    "rejects the key %j before any request",
    async (key) => {
      let calls = 0;
      const guarded = new S3ImageStore(
        s3Options({
          fetch: async () => {
            calls++;
            return new Response(null);
          },
        }),
      );

      await expect(guarded.get(key)).rejects.toThrow(TypeError);
      expect(calls).toBe(0);
    },
  );

  it("ensures an existing bucket without failing", async () => {
    await expect(ensureBucket(s3Options())).resolves.toBeUndefined();
    await expect(ensureBucket(s3Options())).resolves.toBeUndefined();
  });
});
