import { sql } from "drizzle-orm";
import type { Job } from "../../db/models";
import type { Repository } from "../../db/repository";
import { ApiError } from "../../errors/api-error";
import type { GenerationMessage } from "../../generation/messages";
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

export interface ReplayDeps {
  repo: Repository;
  queue: Pick<Queue<GenerationMessage>, "send">;
  /** Live update to the owner's sockets (and the job metrics). */
  publish: (job: Job) => void;
}

/**
 * Gives a dead-lettered job another go: `failed` -> `queued` (error, upstream id and times
 * cleared; `attempts` kept, so the next claim is a fresh attempt number) and a new submit
 * message. The reset is a compare-and-set on `status = 'failed' AND dead_lettered = 1`: of
 * two concurrent replays one wins, the other is 409, as is a job that failed any other way.
 * If the queue refuses the message, the job goes back to where it was and the caller gets 503.
 *
 * This is the one transition out of a terminal state, and only an operator can make it.
 */
export async function replayDeadLetter(
  deps: ReplayDeps,
  id: string,
  now = new Date().toISOString(),
): Promise<Job> {
  const { repo } = deps;
  const before = await repo.jobs.get(id);
  if (!before) throw ApiError.notFound("job");
  const reset = await repo.sql.run(
    sql`UPDATE image_generation_history
        SET status = 'queued', error_code = NULL, error_message = NULL, upstream_id = NULL, dead_lettered = 0,
            started_at = NULL, completed_at = NULL, updated_at = ${now}
        WHERE id = ${id} AND status = 'failed' AND dead_lettered = 1`,
  );
  if (reset === 0) throw ApiError.conflict("Only a failed, dead-lettered job can be replayed.");
  const queued = await repo.jobs.get(id);
  if (!queued) throw ApiError.notFound("job");
  try {
    await deps.queue.send({ type: "submit", job_id: id });
  } catch (error) {
    await repo.sql.run(
      sql`UPDATE image_generation_history
          SET status = 'failed', error_code = ${before.error?.code ?? "dead_lettered"},
              error_message = ${before.error?.message ?? null}, upstream_id = ${before.upstream_id}, dead_lettered = 1,
              started_at = ${before.started_at}, completed_at = ${before.completed_at}, updated_at = ${now}
          WHERE id = ${id} AND status = 'queued' AND attempts = ${before.attempts}`,
    );
    console.error(
      JSON.stringify({
        level: "error",
        msg: "dead-letter replay: enqueue failed",
        job_id: id,
        error: String(error),
      }),
    );
    throw new ApiError(
      503,
      "upstream_unavailable",
      "The job could not be queued; it is still dead-lettered.",
      {
        headers: { "Retry-After": "5" },
      },
    );
  }
  deps.publish(queued);
  console.log(
    JSON.stringify({ level: "info", msg: "dead-letter replayed", job_id: id, attempts: queued.attempts }),
  );
  return queued;
}
