import type { Job } from "../../db/models";
import type { Repository } from "../../db/repository";
import { ApiError } from "../../errors/api-error";
import type { JobService } from "../../generation/job-service";
import type { Cursor } from "../../lib/cursor";
import { page } from "../../lib/cursor";

/** A job as operators see it: the public shape plus owner, upstream id and bookkeeping (image keys dropped). */
export function toAdminJob(job: Job) {
  return {
    id: job.id,
    user_id: job.user_id,
    status: job.status,
    prompt: job.prompt,
    negative_prompt: job.negative_prompt,
    params: job.params,
    character_id: job.character_id,
    chat_id: job.chat_id ?? null,
    images: job.images.map(({ url, width, height, content_type }) => ({ url, width, height, content_type })),
    error: job.error,
    attempts: job.attempts,
    upstream_id: job.upstream_id,
    dead_lettered: job.dead_lettered,
    created_at: job.created_at,
    started_at: job.started_at,
    completed_at: job.completed_at,
    updated_at: job.updated_at,
  };
}

/** Dead-lettered jobs, newest first (ids sort by creation time), as a cursor page. */
export async function listDeadLetters(repo: Repository, limit: number, cursor?: Cursor) {
  const rows = await repo.jobs.listDeadLettered(limit, cursor);
  const result = page(rows, limit, (job) => ({ sort: job.id, id: job.id }));
  return { items: result.items.map(toAdminJob), next_cursor: result.next_cursor };
}

/**
 * `POST /admin/dead-letters/:id/replay`: the job state machine's replay (see
 * `JobService.replayDeadLetter`) as the admin API answers it: 404 for an unknown job, 409 for
 * one that is not a failed, dead-lettered job (terminal jobs stay as they are), 503 when the
 * queue refused the message (the job is still dead-lettered).
 *
 * @example
 * const job = await replayDeadLetter(jobs, id);
 */
export async function replayDeadLetter(jobs: Pick<JobService, "replayDeadLetter">, id: string): Promise<Job> {
  const outcome = await jobs.replayDeadLetter(id);
  switch (outcome.kind) {
    case "replayed":
      return outcome.job;
    case "not_found":
      throw ApiError.notFound("job");
    case "not_replayable":
      throw ApiError.conflict("Only a failed, dead-lettered job can be replayed.");
    case "enqueue_failed":
      throw new ApiError(
        503,
        "upstream_unavailable",
        "The job could not be queued; it is still dead-lettered.",
        {
          headers: { "Retry-After": "5" },
        },
      );
  }
}
