import type { Job } from "../db/models";
import { newId } from "../lib/ids";

/** What a caller decides about a new job; everything else starts the same for every job. */
export type NewJobFields = Pick<Job, "user_id" | "prompt" | "negative_prompt" | "character_id"> & {
  params: Omit<Job["params"], "seed"> & { seed?: number };
  chat_id?: string;
};

/**
 * A job as `JobService.accept` takes it: queued, no attempt or upstream job yet, a random seed
 * unless one is given. `POST /generate` and chat pictures both make theirs here.
 */
export function newQueuedJob(fields: NewJobFields, nowMs = Date.now()): Job {
  const now = new Date(nowMs).toISOString();
  return {
    id: newId("gen", nowMs),
    status: "queued",
    ...fields,
    params: {
      ...fields.params,
      seed: fields.params.seed ?? (crypto.getRandomValues(new Uint32Array(1))[0] as number),
    },
    images: [],
    error: null,
    attempts: 0,
    upstream_id: null,
    dead_lettered: false,
    created_at: now,
    started_at: null,
    completed_at: null,
    updated_at: now,
  };
}
