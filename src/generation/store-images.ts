import type { Config } from "../config";
import type { Job, JobImage } from "../db/models";
import type { ImageStore } from "../storage/image-store";
import { decodeBase64, sniffImage } from "./image-bytes";
import { imageKey, imageUrl } from "./image-keys";
import { type ImageSource, OutputError } from "./output-parser";

/** Larger than any SDXL/ComfyUI PNG at 1536 x 1536. */
const MAX_IMAGE_BYTES = 32 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 30_000;

export interface StoreImagesDeps {
  config: Pick<Config, "IMAGE_KEY_SECRET" | "JWT_SECRET" | "IMAGE_CDN_BASE_URL" | "PUBLIC_BASE_URL">;
  store: ImageStore;
  fetch?: typeof fetch;
}

async function download(url: string, fetcher: typeof fetch): Promise<Uint8Array> {
  const response = await fetcher(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  if (response.status === 404 || response.status === 403) {
    await response.body?.cancel();
    throw new OutputError(`an output image URL answered ${response.status}`);
  }
  // Anything else not OK may pass (a 5xx, a throttled bucket): thrown as a transient error.
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`downloading an output image failed: HTTP ${response.status}`);
  }
  if (Number(response.headers.get("Content-Length") ?? 0) > MAX_IMAGE_BYTES) {
    await response.body?.cancel();
    throw new OutputError("an output image is too large");
  }
  return new Uint8Array(await response.arrayBuffer());
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
  const fetcher = deps.fetch ?? ((input, init) => fetch(input, init));
  return Promise.all(
    sources.map(async (source, index) => {
      const bytes =
        source.kind === "inline" ? decodeBase64(source.base64) : await download(source.url, fetcher);
      if (bytes.byteLength > MAX_IMAGE_BYTES) throw new OutputError("an output image is too large");
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
