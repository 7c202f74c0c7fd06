import type { Config } from "../config";
import type { Job, JobImage } from "../db/models";
import type { ImageStore } from "../storage/image-store";
import { decodeBase64, sniffImage } from "./image-bytes";
import { allowedImageOrigins, downloadImage } from "./image-download";
import { imageKey, imageUrl } from "./image-keys";
import { type ImageSource, OutputError } from "./output-parser";

/** Larger than any SDXL/ComfyUI PNG at 1536 x 1536. */
const MAX_IMAGE_BYTES = 32 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 30_000;

export interface StoreImagesDeps {
  config: Pick<
    Config,
    | "IMAGE_KEY_SECRET"
    | "JWT_SECRET"
    | "IMAGE_CDN_BASE_URL"
    | "PUBLIC_BASE_URL"
    | "RUNPOD_API_BASE"
    | "S3_ENDPOINT"
  >;
  store: ImageStore;
  fetch?: typeof fetch;
  /** Largest image accepted (`MAX_IMAGE_BYTES` unless a test says otherwise). */
  maxImageBytes?: number;
}

/**
 * Stores a finished job's output images under keys derived from the job id and index, so a
 * second run for the same job (redelivery, a webhook racing a poll) overwrites the same
 * objects rather than writing a second set. Returns the images as the job records them.
 *
 * @throws {OutputError} when an output is not an image (permanent); other errors are transient
 */
export async function storeJobImages(
  sources: ImageSource[],
  job: Pick<Job, "id" | "params">,
  deps: StoreImagesDeps,
): Promise<JobImage[]> {
  const maxBytes = deps.maxImageBytes ?? MAX_IMAGE_BYTES;
  const limits = {
    allowed: allowedImageOrigins(deps.config),
    maxBytes,
    timeoutMs: DOWNLOAD_TIMEOUT_MS,
    fetch: deps.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)),
  };
  return Promise.all(
    sources.map(async (source, index) => {
      const bytes =
        source.kind === "inline" ? decodeBase64(source.base64) : await downloadImage(source.url, limits);
      if (bytes.byteLength > maxBytes) throw new OutputError("an output image is too large");
      const sniffed = sniffImage(bytes);
      const key = await imageKey(deps.config, job.id, index, sniffed.extension);
      await deps.store.put(key, bytes, sniffed.contentType);
      return {
        url: imageUrl(deps.config, key),
        width: sniffed.width ?? job.params.width,
        height: sniffed.height ?? job.params.height,
        content_type: sniffed.contentType,
        key,
      };
    }),
  );
}
