import type { PublicJob } from "../realtime/events";
import type { UserEventPublisher } from "../realtime/publisher";
import { writeMetric } from "./metrics";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/** Milliseconds from `from` to `to`, or 0 when either is unknown. */
function span(from: string | null, to: string | null): number {
  if (!from || !to) return 0;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/**
 * The timings of a job that reached `status`: time waiting for its queue message and claim
 * (created -> started), time running on the GPU side (started -> completed: submit, GPU,
 * storing images), and the total. A job cancelled while queued has no run time.
 */
export function jobTimings(job: PublicJob): { queueMs: number; runMs: number; totalMs: number } {
  const end = TERMINAL.has(job.status) ? job.completed_at : null;
  return {
    queueMs: span(job.created_at, job.started_at ?? end),
    runMs: span(job.started_at, end),
    totalMs: span(job.created_at, end),
  };
}

/**
 * Decorates the generation pipeline's publisher: every status transition it publishes (each
 * won compare-and-set of `JobService`) also writes one `job` data point (status, error code,
 * queue/run/total time, attempts). The event goes on to the user's sockets unchanged.
 *
 * @example
 * publisher: withJobMetrics(env, sessionPublisher(env)),
 */
export function withJobMetrics(
  env: Partial<Pick<Env, "METRICS">>,
  publisher: UserEventPublisher,
): UserEventPublisher {
  return {
    publish(userId, event) {
      if (event.type === "generation.updated") {
        const { job } = event;
        const t = jobTimings(job);
        writeMetric(
          env,
          "job",
          [job.status, job.error?.code ?? ""],
          [1, t.queueMs, t.runMs, t.totalMs, job.attempts],
        );
      }
      return publisher.publish(userId, event);
    },
  };
}
