import type { Job } from "../db/models";
import type { PublicJob } from "../realtime/events";

/**
 * A job as API.md shows it: an allow-list, so a column added to `Job` later stays private
 * until someone decides otherwise. Storage keys are dropped from the images.
 */
export function toPublicJob(job: Job): PublicJob {
  return {
    id: job.id,
    status: job.status,
    prompt: job.prompt,
    negative_prompt: job.negative_prompt,
    params: job.params,
    character_id: job.character_id,
    chat_id: job.chat_id ?? null,
    images: job.images.map((image) => ({
      url: image.url,
      width: image.width,
      height: image.height,
      content_type: image.content_type,
    })),
    error: job.error,
    attempts: job.attempts,
    created_at: job.created_at,
    started_at: job.started_at,
    completed_at: job.completed_at,
  };
}
