/** A stored object as the image route needs it. */
export interface StoredImage {
  body: ReadableStream<Uint8Array> | ArrayBuffer;
  contentType: string;
  etag: string;
  size: number;
}

/**
 * Where generated images live: R2 (`IMAGES` binding) or any S3-compatible store.
 * Keys are chosen by the caller and are already unguessable.
 */
export interface ImageStore {
  put(key: string, bytes: Uint8Array, contentType: string): Promise<{ etag: string }>;
  get(key: string): Promise<StoredImage | null>;
  delete(key: string): Promise<void>;
}
