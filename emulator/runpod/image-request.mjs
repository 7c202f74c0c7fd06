import { randomInt } from "node:crypto";
import { parseDirectives } from "./directives.mjs";

/** Largest side the emulator renders; real SDXL workers refuse far smaller sizes anyway. */
const MAX_SIDE = 2048;
const MAX_IMAGES = 4;

/**
 * Reads a job input in either worker's dialect into one shape. Problems a real worker would
 * report by failing the job are returned as `problem`, not thrown.
 * - worker-sdxl: `{prompt, negative_prompt, width, height, num_inference_steps, guidance_scale, seed, num_images}`
 * - worker-comfyui: `{workflow: {<nodeId>: {class_type, inputs}}}`
 * @example
 * readImageRequest({ prompt: "a fox [[emu:gpu=10]]", width: 512, seed: 7 })
 * // => { style: "sdxl", prompt: "a fox [[emu:gpu=10]]", text: "a fox", directives: { gpu: 10 }, width: 512, ... }
 * @param {Record<string, any>} input
 * @throws {import("./directives.mjs").DirectiveError}
 */
export function readImageRequest(input) {
  const fields = input.workflow !== undefined ? fromWorkflow(input.workflow) : fromSdxl(input);
  const prompt = typeof fields.prompt === "string" ? fields.prompt : "";
  const { text, directives } = parseDirectives(prompt);
  const request = {
    style: fields.style,
    prompt,
    text,
    directives,
    negativePrompt: fields.negativePrompt ?? "",
    width: fields.width ?? 1024,
    height: fields.height ?? 1024,
    numImages: fields.numImages ?? 1,
    seed: fields.seed ?? randomInt(0, 2 ** 32),
    problem: fields.problem ?? null,
  };
  request.problem ??= problemWith(request);
  return request;
}

function problemWith({ width, height, numImages, seed }) {
  for (const [name, value] of Object.entries({ width, height })) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_SIDE)
      return `${name} must be an integer in 1..${MAX_SIDE}`;
  }
  if (!Number.isInteger(numImages) || numImages < 1 || numImages > MAX_IMAGES) {
    return `num_images must be an integer in 1..${MAX_IMAGES}`;
  }
  if (!Number.isSafeInteger(seed) || seed < 0) return "seed must be a non-negative integer";
  return null;
}

function fromSdxl(input) {
  return {
    style: "sdxl",
    prompt: input.prompt,
    negativePrompt: typeof input.negative_prompt === "string" ? input.negative_prompt : undefined,
    width: input.width ?? undefined,
    height: input.height ?? undefined,
    numImages: input.num_images ?? undefined,
    seed: input.seed ?? undefined,
    problem: typeof input.prompt === "string" ? null : "prompt is required and must be a string",
  };
}

function fromWorkflow(workflow) {
  if (workflow === null || typeof workflow !== "object" || Array.isArray(workflow)) {
    return { style: "comfyui", problem: "workflow must be an object of ComfyUI nodes" };
  }
  const nodes = Object.values(workflow).filter((node) => node && typeof node === "object");
  const ofType = (...types) => nodes.find((node) => types.includes(node.class_type));
  const sampler = ofType("KSampler", "KSamplerAdvanced");
  const latent = ofType("EmptyLatentImage", "EmptySD3LatentImage");
  const linkedText = (link) => {
    const node = Array.isArray(link) ? workflow[link[0]] : undefined;
    return node?.class_type === "CLIPTextEncode" ? node.inputs?.text : undefined;
  };
  const positive = linkedText(sampler?.inputs?.positive) ?? ofType("CLIPTextEncode")?.inputs?.text;
  const numberOrUndefined = (value) => (typeof value === "number" ? value : undefined);
  return {
    style: "comfyui",
    prompt: positive,
    negativePrompt: linkedText(sampler?.inputs?.negative),
    width: numberOrUndefined(latent?.inputs?.width),
    height: numberOrUndefined(latent?.inputs?.height),
    numImages: numberOrUndefined(latent?.inputs?.batch_size),
    seed: numberOrUndefined(sampler?.inputs?.seed ?? sampler?.inputs?.noise_seed),
    problem: typeof positive === "string" ? null : "workflow has no CLIPTextEncode node with a text input",
  };
}
