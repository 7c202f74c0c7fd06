import type { Config } from "../config";
import type { ImageStore } from "./image-store";
import { R2ImageStore } from "./r2-store";
import { S3ImageStore } from "./s3-store";

type StorageConfig = Pick<
  Config,
  "STORAGE_BACKEND" | "S3_ENDPOINT" | "S3_REGION" | "S3_BUCKET" | "S3_ACCESS_KEY_ID" | "S3_SECRET_ACCESS_KEY"
>;

/**
 * The image store STORAGE_BACKEND selects: the R2 bucket bound as `IMAGES` (default) or
 * an S3-compatible bucket from the S3_* settings (config validation requires all of them
 * when STORAGE_BACKEND=s3).
 *
 * @example
 * const store = openImageStore(env, loadConfig(env));
 */
export function openImageStore(env: Pick<Env, "IMAGES">, config: StorageConfig): ImageStore {
  if (config.STORAGE_BACKEND !== "s3") return new R2ImageStore(env.IMAGES);
  const { S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = config;
  if (!S3_ENDPOINT || !S3_REGION || !S3_BUCKET || !S3_ACCESS_KEY_ID || !S3_SECRET_ACCESS_KEY) {
    throw new Error(
      "STORAGE_BACKEND=s3 needs S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY",
    );
  }
  return new S3ImageStore({
    endpoint: S3_ENDPOINT,
    region: S3_REGION,
    bucket: S3_BUCKET,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
  });
}
