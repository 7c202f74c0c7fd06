import type { ImageStore, StoredImage } from "./image-store";

/** Image keys never change content, so caches may keep them forever. */
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * Images in the R2 bucket bound as `IMAGES`.
 *
 * @example
 * const store = new R2ImageStore(env.IMAGES);
 * const image = await store.get("img/abc.png");
 */
export class R2ImageStore implements ImageStore {
  readonly #bucket: R2Bucket;

  constructor(bucket: R2Bucket) {
    this.#bucket = bucket;
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<{ etag: string }> {
    const object = await this.#bucket.put(key, bytes, {
      httpMetadata: { contentType, cacheControl: IMMUTABLE },
    });
    // R2 answers null only for a failed precondition, and this put sets none.
    if (!object) throw new Error(`R2 put of ${key} returned no object`);
    return { etag: object.httpEtag };
  }

  async get(key: string): Promise<StoredImage | null> {
    const object = await this.#bucket.get(key);
    if (!object) return null;
    return {
      body: object.body,
      contentType: object.httpMetadata?.contentType ?? "application/octet-stream",
      etag: object.httpEtag,
      size: object.size,
    };
  }

  async delete(key: string): Promise<void> {
    await this.#bucket.delete(key);
  }
}
