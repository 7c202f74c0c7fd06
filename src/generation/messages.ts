import { z } from "zod";
import { Id } from "../http/schemas";

/** Queue names as wrangler.toml declares them; `src/index.ts` routes batches by these. */
export const GENERATION_QUEUE = "generation";
export const GENERATION_DLQ = "generation-dlq";

/**
 * What travels through the `generation` queue: ids only (the job row is the truth).
 * - `submit`: sent by `POST /generate`; claims the job and submits it to RunPod.
 * - `poll`: sent delayed by the consumer; checks RunPod's `/status` (the n-th check).
 */
export const GenerationMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("submit"), job_id: Id }).strict(),
  z.object({ type: z.literal("poll"), job_id: Id, n: z.number().int().min(0).max(10_000) }).strict(),
]);

export type GenerationMessage = z.infer<typeof GenerationMessage>;
