import { z } from "zod";

/** Where one output image's bytes are: inline (base64) or behind a URL to download. */
export type ImageSource = { kind: "inline"; base64: string } | { kind: "url"; url: string };

/** The worker's output cannot become images; retrying will not change that. */
export class OutputError extends Error {
  override readonly name = "OutputError";
}

/** We ask for one image; a worker returning more is kept to this many. */
export const MAX_OUTPUT_IMAGES = 4;

const Text = z.string().min(1).max(40_000_000);
/** runpod-workers/worker-sdxl: `image_url` (data URI, or a URL with bucket upload) and/or `images`. */
const SdxlOutput = z.object({ image_url: Text.optional(), images: z.array(Text).optional() });
/** runpod-workers/worker-comfyui: `images: [{filename, type: "base64" | "s3_url", data}]`. */
const ComfyOutput = z.object({
  images: z
    .array(
      z.object({ filename: z.string().max(1000).optional(), type: z.enum(["base64", "s3_url"]), data: Text }),
    )
    .min(1),
});

const DATA_URI = /^data:image\/[a-z0-9.+-]+;base64,/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function fromString(value: string): ImageSource {
  if (DATA_URI.test(value)) return { kind: "inline", base64: value.slice(value.indexOf(",") + 1) };
  if (/^https?:\/\//i.test(value)) return { kind: "url", url: value };
  if (BASE64.test(value)) return { kind: "inline", base64: value };
  throw new OutputError("an output image is neither a data URI, base64 nor an http(s) URL");
}

/**
 * The images of a COMPLETED job's `output`, in either worker's dialect.
 *
 * @example
 * parseRunPodOutput({ image_url: "data:image/png;base64,iVBOR..." }) // [{ kind: "inline", base64: "iVBOR..." }]
 * parseRunPodOutput({ images: [{ filename: "a.png", type: "s3_url", data: "https://..." }] }) // [{ kind: "url", url: "https://..." }]
 * @throws {OutputError} when the output holds no image
 */
export function parseRunPodOutput(output: unknown): ImageSource[] {
  const comfy = ComfyOutput.safeParse(output);
  if (comfy.success) {
    return comfy.data.images
      .slice(0, MAX_OUTPUT_IMAGES)
      .map((image) => (image.type === "base64" ? fromString(image.data) : { kind: "url", url: image.data }));
  }
  const sdxl = SdxlOutput.safeParse(typeof output === "string" ? { image_url: output } : output);
  if (sdxl.success) {
    const { images, image_url } = sdxl.data;
    const all = images && images.length > 0 ? images : image_url ? [image_url] : [];
    if (all.length > 0) return all.slice(0, MAX_OUTPUT_IMAGES).map(fromString);
  }
  throw new OutputError("the worker's output holds no image");
}
