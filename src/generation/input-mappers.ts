import type { Config } from "../config";
import type { Job } from "../db/models";

type Request = Pick<Job, "id" | "prompt" | "negative_prompt" | "params">;

/**
 * The `input` of runpod-workers/worker-sdxl.
 *
 * @example
 * sdxlInput(job) // { prompt, negative_prompt, width, height, num_inference_steps, guidance_scale, seed, num_images: 1 }
 */
export function sdxlInput(job: Request) {
  return {
    prompt: job.prompt,
    negative_prompt: job.negative_prompt,
    width: job.params.width,
    height: job.params.height,
    num_inference_steps: job.params.steps,
    guidance_scale: job.params.guidance,
    seed: job.params.seed,
    num_images: 1,
  };
}

/** Checkpoint of the stock SDXL image of runpod-workers/worker-comfyui. */
const COMFYUI_CHECKPOINT = "sd_xl_base_1.0.safetensors";

/**
 * The `input` of runpod-workers/worker-comfyui: ComfyUI's API-format text-to-image graph
 * (checkpoint -> two prompts -> KSampler -> VAE decode -> SaveImage), one image.
 */
export function comfyuiInput(job: Request) {
  const { width, height, steps, seed, guidance } = job.params;
  return {
    workflow: {
      "3": {
        class_type: "KSampler",
        inputs: {
          seed,
          steps,
          cfg: guidance,
          sampler_name: "euler",
          scheduler: "normal",
          denoise: 1,
          model: ["4", 0],
          positive: ["6", 0],
          negative: ["7", 0],
          latent_image: ["5", 0],
        },
      },
      "4": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: COMFYUI_CHECKPOINT } },
      "5": { class_type: "EmptyLatentImage", inputs: { width, height, batch_size: 1 } },
      "6": { class_type: "CLIPTextEncode", inputs: { text: job.prompt, clip: ["4", 1] } },
      "7": { class_type: "CLIPTextEncode", inputs: { text: job.negative_prompt, clip: ["4", 1] } },
      "8": { class_type: "VAEDecode", inputs: { samples: ["3", 0], vae: ["4", 2] } },
      "9": { class_type: "SaveImage", inputs: { filename_prefix: job.id, images: ["8", 0] } },
    },
  };
}

/** The input for the worker RUNPOD_INPUT_FORMAT names (`sdxl` by default). */
export function runpodInput(format: Config["RUNPOD_INPUT_FORMAT"], job: Request): object {
  return format === "comfyui" ? comfyuiInput(job) : sdxlInput(job);
}
