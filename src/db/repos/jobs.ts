import { type SQL, sql } from "drizzle-orm";
import type { Cursor } from "../../lib/cursor";
import { ACTIVE_STATUSES, type Job, type JobImage, type JobStatus } from "../models";
import type { IdempotencyKeyRow, JobRow } from "../schema/rows";
import type { SqlClient } from "../sql-client";

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    user_id: row.user_id,
    status: row.status,
    prompt: row.prompt,
    negative_prompt: row.negative_prompt,
    params: JSON.parse(row.params),
    character_id: row.character_id,
    chat_id: row.chat_id ?? null,
    images: JSON.parse(row.images) as JobImage[],
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? "" } : null,
    attempts: Number(row.attempts),
    upstream_id: row.upstream_id,
    dead_lettered: Boolean(row.dead_lettered),
    created_at: row.created_at,
    started_at: row.started_at,
    completed_at: row.completed_at,
    updated_at: row.updated_at,
  };
}

/** Columns a status transition may set. */
export interface JobPatch {
  status?: JobStatus;
  images?: JobImage[];
  error?: { code: string; message: string } | null;
  attempts?: number;
  upstream_id?: string | null;
  dead_lettered?: boolean;
  started_at?: string | null;
  completed_at?: string | null;
}

function inList(values: readonly string[]): SQL {
  return sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );
}

export type CreateJobResult =
  | { kind: "created"; job: Job }
  | { kind: "replayed"; job: Job }
  | { kind: "key_conflict" }
  | { kind: "quota_exceeded" };

export class JobsRepo {
  constructor(private readonly db: SqlClient) {}

  /**
   * Stores a new job. With an idempotency key, the key row and the job are written in one
   * atomic batch guarded by the key's primary key, so two racing requests with the same
   * key create one job; the loser gets the winner's job back (or a conflict on another body).
   *
   * With `limits.maxActive`, both rows are written only while the user has fewer jobs not
   * yet terminal, checked inside the same statement. D1 runs statements one at a time, so
   * the count cannot go stale between check and insert; on PostgreSQL the batch first takes
   * a per-user transaction lock, which serialises one user's concurrent creates.
   * `charge` records what the job was charged and the day it counts against (for refunds).
   */
  async create(
    job: Job,
    idempotency?: { key: string; requestHash: string },
    limits?: { maxActive: number },
    charge?: { credits: number; day: string },
  ): Promise<CreateJobResult> {
    const guard = limits
      ? sql`WHERE (SELECT count(*) FROM image_generation_history
            WHERE user_id = ${job.user_id} AND status IN (${inList(ACTIVE_STATUSES)})) < ${limits.maxActive}`
      : sql``;
    const insertJob = sql`INSERT INTO image_generation_history
      (id, user_id, character_id, chat_id, status, prompt, negative_prompt, params, images, error_code, error_message, attempts, upstream_id, dead_lettered, created_at, started_at, completed_at, updated_at, credits, credit_day)
      SELECT ${job.id}, ${job.user_id}, ${job.character_id}, ${job.chat_id ?? null}, ${job.status}, ${job.prompt}, ${job.negative_prompt}, ${JSON.stringify(job.params)}, '[]', NULL, NULL, 0, NULL, 0, ${job.created_at}, NULL, NULL, ${job.updated_at}, CAST(${charge?.credits ?? 0} AS INTEGER), ${charge?.day ?? null}
      ${guard}`;
    const statements: SQL[] = [];
    if (limits && this.db.dialect === "postgres") {
      statements.push(sql`SELECT pg_advisory_xact_lock(hashtext(${`jobs:${job.user_id}`}))`);
    }
    if (idempotency) {
      statements.push(sql`INSERT INTO idempotency_keys (user_id, key, request_hash, job_id, created_at)
          SELECT ${job.user_id}, ${idempotency.key}, ${idempotency.requestHash}, ${job.id}, ${job.created_at}
          ${guard}`);
    }
    statements.push(insertJob);
    try {
      if (statements.length === 1) {
        const inserted = await this.db.run(insertJob);
        return inserted > 0 ? { kind: "created", job } : { kind: "quota_exceeded" };
      }
      await this.db.batch(statements);
    } catch (error) {
      const earlier = idempotency ? await this.#replay(job.user_id, idempotency) : null;
      if (!earlier) throw error;
      return earlier;
    }
    if (limits && !(await this.get(job.id))) {
      // Over quota; but a replay of a key that already made a job is not a new job.
      return (
        (idempotency ? await this.#replay(job.user_id, idempotency) : null) ?? { kind: "quota_exceeded" }
      );
    }
    return { kind: "created", job };
  }

  /** The job an idempotency key already made (or a conflict on another body); null when the key is unused. */
  async #replay(
    userId: string,
    idempotency: { key: string; requestHash: string },
  ): Promise<CreateJobResult | null> {
    const existing = await this.findByIdempotencyKey(userId, idempotency.key);
    if (!existing) return null;
    if (existing.requestHash !== idempotency.requestHash) return { kind: "key_conflict" };
    const original = await this.get(existing.jobId, userId);
    return original ? { kind: "replayed", job: original } : null;
  }

  async findByIdempotencyKey(
    userId: string,
    key: string,
  ): Promise<{ jobId: string; requestHash: string; createdAt: string } | null> {
    const rows = await this.db.all<Pick<IdempotencyKeyRow, "job_id" | "request_hash" | "created_at">>(
      sql`SELECT job_id, request_hash, created_at FROM idempotency_keys WHERE user_id = ${userId} AND key = ${key}`,
    );
    const row = rows[0];
    return row ? { jobId: row.job_id, requestHash: row.request_hash, createdAt: row.created_at } : null;
  }

  /** Forgets one user's key: any, or only if older than `before` (a key past its 24 h no longer replays). */
  async forgetIdempotencyKey(userId: string, key: string, before?: string): Promise<void> {
    const age = before === undefined ? sql`` : sql`AND created_at < ${before}`;
    await this.db.run(sql`DELETE FROM idempotency_keys WHERE user_id = ${userId} AND key = ${key} ${age}`);
  }

  /** Forgets idempotency keys older than `before` (API.md keeps them 24 h). */
  async pruneIdempotencyKeys(before: string): Promise<number> {
    return this.db.run(sql`DELETE FROM idempotency_keys WHERE created_at < ${before}`);
  }

  /** A job by id; with `userId`, only that user's (others' jobs do not exist for them). */
  async get(id: string, userId?: string): Promise<Job | null> {
    const owner = userId ? sql`AND user_id = ${userId}` : sql``;
    const rows = await this.db.all<JobRow>(
      sql`SELECT * FROM image_generation_history WHERE id = ${id} ${owner}`,
    );
    return rows[0] ? toJob(rows[0]) : null;
  }

  async list(userId: string, limit: number, cursor?: Cursor, status?: JobStatus): Promise<Job[]> {
    const byStatus = status ? sql`AND status = ${status}` : sql``;
    const after = cursor
      ? sql`AND (created_at < ${cursor.sort} OR (created_at = ${cursor.sort} AND id < ${cursor.id}))`
      : sql``;
    const rows = await this.db.all<JobRow>(
      sql`SELECT * FROM image_generation_history WHERE user_id = ${userId} ${byStatus} ${after}
          ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`,
    );
    return rows.map(toJob);
  }

  async countActive(userId: string): Promise<number> {
    const rows = await this.db.all<{ n: number }>(
      sql`SELECT CAST(count(*) AS INTEGER) AS n FROM image_generation_history
          WHERE user_id = ${userId} AND status IN (${inList(ACTIVE_STATUSES)})`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Compare-and-set: applies `patch` only while the job is in one of `from`. This is what
   * keeps every job to exactly one terminal state under redelivery and duplicate webhooks:
   * of two racing writers, one sees 1 changed row and the other 0.
   */
  async transition(
    id: string,
    from: readonly JobStatus[],
    patch: JobPatch,
    now: string,
  ): Promise<Job | null> {
    const sets: SQL[] = [sql`updated_at = ${now}`];
    if (patch.status !== undefined) sets.push(sql`status = ${patch.status}`);
    if (patch.images !== undefined) sets.push(sql`images = ${JSON.stringify(patch.images)}`);
    if (patch.error !== undefined) {
      sets.push(
        sql`error_code = ${patch.error?.code ?? null}`,
        sql`error_message = ${patch.error?.message ?? null}`,
      );
    }
    if (patch.attempts !== undefined) sets.push(sql`attempts = ${patch.attempts}`);
    if (patch.upstream_id !== undefined) sets.push(sql`upstream_id = ${patch.upstream_id}`);
    if (patch.dead_lettered !== undefined) sets.push(sql`dead_lettered = ${patch.dead_lettered ? 1 : 0}`);
    if (patch.started_at !== undefined) sets.push(sql`started_at = ${patch.started_at}`);
    if (patch.completed_at !== undefined) sets.push(sql`completed_at = ${patch.completed_at}`);
    return this.#updateReturning(
      sql`UPDATE image_generation_history SET ${sql.join(sets, sql`, `)}
          WHERE id = ${id} AND status IN (${inList(from)})`,
    );
  }

  /** Runs a guarded UPDATE and returns the row as it left it, or null when the guard matched nothing. */
  async #updateReturning(update: SQL): Promise<Job | null> {
    const rows = await this.db.all<JobRow>(sql`${update} RETURNING *`);
    return rows[0] ? toJob(rows[0]) : null;
  }

  /**
   * Claims the job's next upstream attempt (attempts + 1, status `running`, a fresh
   * `started_at`): from `queued`, or from a `running` attempt that never recorded an upstream
   * id and was claimed before `staleBefore` (its claimer died). `expectedAttempts` makes the
   * claim a compare-and-set: of two racing claimers exactly one wins.
   */
  async claimAttempt(
    id: string,
    expectedAttempts: number,
    now: string,
    staleBefore: string,
  ): Promise<Job | null> {
    return this.#updateReturning(
      sql`UPDATE image_generation_history
          SET status = 'running', attempts = attempts + 1, upstream_id = NULL, started_at = ${now}, updated_at = ${now}
          WHERE id = ${id} AND attempts = ${expectedAttempts}
            AND (status = 'queued' OR (status = 'running' AND upstream_id IS NULL AND started_at < ${staleBefore}))`,
    );
  }

  /**
   * `claimAttempt` for a job still `queued`, without reading it first: the status guard is the
   * compare-and-set (of two racing claimers one moves it out of `queued`). Null when the job is
   * not queued (absent, claimed, finished): the caller reads it and decides as before.
   */
  async claimQueued(id: string, now: string): Promise<Job | null> {
    return this.#updateReturning(
      sql`UPDATE image_generation_history
          SET status = 'running', attempts = attempts + 1, upstream_id = NULL, started_at = ${now}, updated_at = ${now}
          WHERE id = ${id} AND status = 'queued'`,
    );
  }

  /** Records the upstream id of the claimed attempt; false when the job moved on meanwhile (cancelled, timed out). */
  async recordUpstream(id: string, attempt: number, upstreamId: string, now: string): Promise<boolean> {
    const changed = await this.db.run(
      sql`UPDATE image_generation_history SET upstream_id = ${upstreamId}, updated_at = ${now}
          WHERE id = ${id} AND status = 'running' AND attempts = ${attempt} AND upstream_id IS NULL`,
    );
    return changed > 0;
  }

  /** Gives a claimed attempt back (`queued` again) after a submit that certainly created nothing upstream. */
  async releaseAttempt(id: string, attempt: number, now: string): Promise<Job | null> {
    return this.#updateReturning(
      sql`UPDATE image_generation_history SET status = 'queued', started_at = NULL, updated_at = ${now}
          WHERE id = ${id} AND status = 'running' AND attempts = ${attempt} AND upstream_id IS NULL`,
    );
  }

  /** Jobs in `status` not touched since `before`, oldest first (what the sweep looks at). */
  async listStale(status: JobStatus, before: string, limit: number): Promise<Job[]> {
    const rows = await this.db.all<JobRow>(
      sql`SELECT * FROM image_generation_history WHERE status = ${status} AND updated_at < ${before}
          ORDER BY updated_at LIMIT ${limit}`,
    );
    return rows.map(toJob);
  }

  /** Bumps `updated_at` of a job still in `status` (so the sweep does not pick it again at once). */
  async touch(id: string, status: JobStatus, now: string): Promise<boolean> {
    return (
      (await this.db.run(
        sql`UPDATE image_generation_history SET updated_at = ${now} WHERE id = ${id} AND status = ${status}`,
      )) > 0
    );
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    const rows = await this.db.all<{ status: JobStatus; n: number }>(
      sql`SELECT status, CAST(count(*) AS INTEGER) AS n FROM image_generation_history GROUP BY status`,
    );
    const counts: Record<JobStatus, number> = {
      queued: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    };
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  async listDeadLettered(limit: number, cursor?: Cursor): Promise<Job[]> {
    const after = cursor ? sql`AND id < ${cursor.id}` : sql``;
    const rows = await this.db.all<JobRow>(
      sql`SELECT * FROM image_generation_history WHERE dead_lettered = 1 ${after} ORDER BY id DESC LIMIT ${limit + 1}`,
    );
    return rows.map(toJob);
  }

  /**
   * Compare-and-set for an operator's replay: a `failed`, dead-lettered job back to `queued`
   * (error, upstream id and times cleared; `attempts` kept). Null when the job is anything
   * else, a concurrent replay included.
   */
  async requeueDeadLettered(id: string, now: string): Promise<Job | null> {
    return this.#updateReturning(
      sql`UPDATE image_generation_history
          SET status = 'queued', error_code = NULL, error_message = NULL, upstream_id = NULL, dead_lettered = 0,
              started_at = NULL, completed_at = NULL, updated_at = ${now}
          WHERE id = ${id} AND status = 'failed' AND dead_lettered = 1`,
    );
  }

  /**
   * Undoes `requeueDeadLettered` (its submit message could not be sent): back to `before`,
   * but only while the job is still the untouched requeued one (`queued`, same attempts).
   */
  async restoreDeadLettered(before: Job, now: string): Promise<Job | null> {
    return this.#updateReturning(
      sql`UPDATE image_generation_history
          SET status = 'failed', error_code = ${before.error?.code ?? "dead_lettered"},
              error_message = ${before.error?.message ?? null}, upstream_id = ${before.upstream_id}, dead_lettered = 1,
              started_at = ${before.started_at}, completed_at = ${before.completed_at}, updated_at = ${now}
          WHERE id = ${before.id} AND status = 'queued' AND attempts = ${before.attempts}`,
    );
  }

  /** For the admin view: how many jobs are dead-lettered, and when the oldest queued job was created. */
  async queueFigures(): Promise<{ deadLettered: number; oldestQueuedAt: string | null }> {
    const rows = await this.db.all<{ dead_lettered: number; oldest_queued: string | null }>(
      sql`SELECT
            (SELECT CAST(count(*) AS INTEGER) FROM image_generation_history WHERE dead_lettered = 1) AS dead_lettered,
            (SELECT min(created_at) FROM image_generation_history WHERE status = 'queued') AS oldest_queued`,
    );
    return {
      deadLettered: Number(rows[0]?.dead_lettered ?? 0),
      oldestQueuedAt: rows[0]?.oldest_queued ?? null,
    };
  }
}
