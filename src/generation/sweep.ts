import { describeError, log } from "../ops/log";
import { openGeneration } from "./deps";

/** Jobs one sweep looks at per kind; the next minute's sweep takes the rest. */
const SWEEP_LIMIT = 100;
/** A job `queued` this long has lost its submit message (queue delays are seconds, not minutes). */
const QUEUED_RESEND_AFTER_S = 600;
const IDEMPOTENCY_TTL_S = 24 * 3600;
/**
 * A `running` job untouched this long gets one `/status` from the sweep, well before its
 * deadline: its poll messages may be gone (a restarted `npm run dev` loses the local queue,
 * and the restarted emulator the job), and a job RunPod no longer knows must fail now with
 * `upstream_lost`, not wait out GENERATION_TIMEOUT_S. A job that is fine is only polled once more.
 */
const RUNNING_CHECK_AFTER_S = 60;

/**
 * The cron safety net for jobs whose messages were lost:
 * - `running` jobs untouched for a minute get one `/status`: RunPod done finishes them, RunPod
 *   not knowing them fails them with `upstream_lost`, and past GENERATION_TIMEOUT_S they fail
 *   with `timeout` and are cancelled upstream;
 * - `queued` jobs older than 10 min get their submit message again (the claim is a CAS, so a
 *   message that was only slow, not lost, does no harm);
 * - idempotency keys older than 24 h are forgotten.
 */
export async function sweepGenerations(env: Env, ctx: ExecutionContext): Promise<void> {
  const { deps, service, close } = openGeneration(env, ctx);
  try {
    const now = Date.now();
    const overdue = await deps.jobs.listStale(
      "running",
      new Date(now - Math.min(RUNNING_CHECK_AFTER_S, deps.config.GENERATION_TIMEOUT_S) * 1000).toISOString(),
      SWEEP_LIMIT,
    );
    for (const job of overdue) {
      await service.advance(job.id).catch((error) => {
        log.warn("sweeping an overdue job failed", { job_id: job.id, error: describeError(error) });
      });
    }
    const stuck = await deps.jobs.listStale(
      "queued",
      new Date(now - QUEUED_RESEND_AFTER_S * 1000).toISOString(),
      SWEEP_LIMIT,
    );
    for (const job of stuck) {
      if (await deps.jobs.touch(job.id, "queued", new Date(now).toISOString())) {
        await deps.queue.send({ type: "submit", job_id: job.id });
      }
    }
    await deps.jobs.pruneIdempotencyKeys(new Date(now - IDEMPOTENCY_TTL_S * 1000).toISOString());
    if (overdue.length + stuck.length > 0) {
      log.info("generation sweep", { overdue: overdue.length, resubmitted: stuck.length });
    }
  } finally {
    await close();
  }
}
