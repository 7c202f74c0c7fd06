import { renderImage } from "./png.mjs";

/** Recently rendered PNGs; jobs keep only their parameters, so memory stays flat under load. */
const CACHE_SIZE = 64;
const cache = new Map();

/**
 * The PNG of image `index` of an image request, rendered once and then served from a small LRU.
 * @param {{text: string, seed: number, width: number, height: number}} request
 * @param {number} index
 * @returns {Buffer}
 */
export function imageFor(request, index) {
  const { text, seed, width, height } = request;
  const key = JSON.stringify([text, seed, width, height, index]);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const png = renderImage({ prompt: text, seed, width, height, index });
  cache.set(key, png);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value);
  return png;
}

/**
 * Builds a COMPLETED job's `output` in the dialect of the worker it emulates.
 * - `sdxl` (worker-sdxl): `{image_url, images: [dataUrl], seed}`
 * - `comfyui` (worker-comfyui): `{images: [{filename, type: "base64", data}]}`
 * - `comfyui_s3`: the same with `type: "s3_url"` and `data` a URL under `${baseUrl}/files/`
 * @param {{id: string, request: object, format: string, baseUrl: string}} job
 */
export function buildOutput({ id, request, format, baseUrl }) {
  const indexes = Array.from({ length: request.numImages }, (_, i) => i);
  if (format === "comfyui_s3") {
    return {
      images: indexes.map((i) => ({
        filename: fileName(id, i),
        type: "s3_url",
        data: `${baseUrl}/files/${fileName(id, i)}`,
      })),
    };
  }
  const base64 = indexes.map((i) => imageFor(request, i).toString("base64"));
  if (format === "comfyui") {
    return {
      images: base64.map((data, i) => ({
        filename: `ComfyUI_${String(i + 1).padStart(5, "0")}_.png`,
        type: "base64",
        data,
      })),
    };
  }
  const dataUrls = base64.map((data) => `data:image/png;base64,${data}`);
  return { image_url: dataUrls[0], images: dataUrls, seed: request.seed };
}

/** Name of a stored output file: the job id and the image index, so the job finds it again. */
export function fileName(jobId, index) {
  return `${jobId}_${index}.png`;
}

/** @returns {{jobId: string, index: number} | null} */
export function parseFileName(name) {
  const match = /^([\w-]{1,100})_(\d{1,2})\.png$/.exec(name);
  return match ? { jobId: match[1], index: Number(match[2]) } : null;
}
