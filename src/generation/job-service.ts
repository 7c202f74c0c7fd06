import { allowances, creditDay, imageCost, secondsToReset } from "../abuse/credits";
import { ACTIVE_STATUSES, type Job, type JobStatus, TERMINAL_STATUSES } from "../db/models";
import type { CreateJobResult } from "../db/repos/jobs";
import { describeError, log } from "../ops/log";
import { deliverToChat } from "./chat-delivery";
import type { GenerationDeps } from "./deps";
import { runpodInput } from "./input-mappers";
import { OutputError, parseRunPodOutput } from "./output-parser";
import { pollDelaySeconds } from "./poll-schedule";
import { toPublicJob } from "./public-job";
import { RunPodError, type RunPodStatus } from "./runpod-client";
import { storeJobImages } from "./store-images";
import { webhookUrl } from "./webhook-url";

/** How an operator's replay of a dead-lettered job ended; the admin route turns it into a response. */
export type ReplayOutcome =
  | { kind: "replayed"; job: Job }
  | { kind: "not_found" }
  /** The job is not `failed` and dead-lettered (any other terminal job, or an active one): unchanged. */
  | { kind: "not_replayable"; job: Job }
  /** The queue refused the submit message: the job is dead-lettered as before. */
  | { kind: "enqueue_failed" };

/** How a new job's acceptance ended: the repository's outcome, or an allowance that cannot pay. */
export type AcceptOutcome = CreateJobResult | { kind: "budget_exhausted"; cost: number; retryAfterS: number };

/** What the caller (a queue message, usually) should do next. */
export type Step =
  | { kind: "done" }
  /** Check upstream again: send a `poll` message numbered `n` after `delaySeconds`. */
  | { kind: "poll"; n: number; delaySeconds: number }
  /** Deliver this same message again later (another consumer holds the claim). */
  | { kind: "retry"; delaySeconds: number };

/**
 * How long a claimed attempt that has not recorded its upstream id belongs to its claimer.
 * Longer than one `/run` can take with the client's retries (4 tries of at most 10 s plus
 * backoff); past it the claimer is presumed dead and the job may be claimed again.
 */
export const SUBMIT_LEASE_S = 60;

/**
 * RunPod's own `executionTimeout` is a backstop set past our deadline: our check at the
 * deadline fails the job and cancels it upstream; RunPod stops the GPU on its own only if
 * we lost track of the job.
 */
const EXECUTION_TIMEOUT_GRACE_S = 30;

const DONE: Step = { kind: "done" };
const iso = (ms: number) => new Date(ms).toISOString();
const isTerminal = (status: JobStatus) => TERMINAL_STATUSES.includes(status);

interface FailOptions {
  /** Statuses the job may fail from (default: `running`). */
  from?: readonly JobStatus[];
  deadLettered?: boolean;
  /** Also cancel the upstream job, if one was recorded. */
  cancelUpstream?: boolean;
}

/**
 * The generation state machine, `queued -> running -> succeeded | failed | cancelled`, over
 * compare-and-set transitions of `JobsRepo` (design and failure windows: README.md here).
 * Every method may run twice at once for the same job (queue redelivery, duplicate
 * webhooks, a poll racing a webhook); each transition is a CAS, so exactly one caller wins
 * and the others see `null` and stand down. Every won transition is published live.
 */
export class JobService {
  constructor(
    private readonly deps: GenerationDeps,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Moves a job one step: claim and submit a queued job, or check a running one upstream.
   * `n` numbers the poll this is (0 for a submit message).
   */
  advance(jobId: string, n = 0): Promise<Step> {
    return this.step(jobId, n, false);
  }

  /**
   * A submit message's step: claims the job straight away while it is `queued` (one statement
   * where `advance` reads the job first), else looks at where it stands as `advance` does
   * (a redelivered submit of a running or finished job).
   */
  async start(jobId: string): Promise<Step> {
    const claimed = await this.deps.jobs.claimQueued(jobId, iso(this.now()));
    return claimed ? this.submitClaimed(claimed) : this.step(jobId, 0, false);
  }

  /** `retried`: this is the second look after losing a claim race; the next loss waits out the lease. */
  private async step(jobId: string, n: number, retried: boolean): Promise<Step> {
    const job = await this.deps.jobs.get(jobId);
    if (!job) {
      log.warn("generation message for an unknown job", { job_id: jobId });
      return DONE;
    }
    if (isTerminal(job.status)) return DONE;
    if (job.status === "queued") return this.submit(job, n, retried);
    if (job.upstream_id) return this.check(job, n);
    // Claimed, but no upstream id yet: the claimer is submitting, or died doing so.
    if (this.pastDeadline(job)) {
      await this.timeout(job);
      return DONE;
    }
    const leaseLeftMs = Date.parse(job.started_at ?? job.updated_at) + SUBMIT_LEASE_S * 1000 - this.now();
    if (leaseLeftMs > 0) return { kind: "retry", delaySeconds: Math.ceil(leaseLeftMs / 1000) };
    return this.submit(job, n, retried);
  }

  /**
   * Confirms a job with RunPod's `/status` and finishes it when upstream is done. What the
   * webhook calls: its body is unsigned, so it only says *when* to look, never *what* happened.
   */
  async confirm(job: Job): Promise<Step> {
    if (job.status !== "running" || !job.upstream_id) return DONE;
    return this.check(job, 0);
  }

  /**
   * Stores a new job and charges its credits (API.md, "Spend and abuse limits"): the charge
   * first, one guarded statement that cannot overspend; then the job, guarded by the
   * active-job quota and the idempotency key. When the job is not created (quota, a replayed
   * key, an error) the charge is taken back, leaving the ledger as it was: a refused request
   * changes no row. The job records its cost and day, for the refund if it fails.
   */
  async accept(job: Job, idempotency?: { key: string; requestHash: string }): Promise<AcceptOutcome> {
    const { config, credits, jobs } = this.deps;
    const nowMs = this.now();
    const cost = imageCost(job.params);
    const day = creditDay(nowMs);
    if ((await credits.charge(job.user_id, day, cost, allowances(config))) === null) {
      return { kind: "budget_exhausted", cost, retryAfterS: secondsToReset(nowMs) };
    }
    let result: CreateJobResult;
    try {
      result = await jobs.create(
        job,
        idempotency,
        { maxActive: config.MAX_ACTIVE_JOBS_PER_USER },
        { credits: cost, day },
      );
    } catch (error) {
      await credits.uncharge(job.user_id, day, cost);
      throw error;
    }
    if (result.kind !== "created") await credits.uncharge(job.user_id, day, cost);
    return result;
  }

  /**
   * Sends a new job's submit message. When the queue refuses it, the job fails at once
   * (`enqueue_failed`) instead of holding the user's quota until the sweep; the caller
   * answers 503. Returns whether the message was sent. The new job itself is not published:
   * the 202 carries it, and other sockets hear of it at its first transition.
   */
  async enqueue(job: Job): Promise<boolean> {
    try {
      await this.deps.queue.send({ type: "submit", job_id: job.id });
      return true;
    } catch (error) {
      log.error("enqueueing a generation failed", { job_id: job.id, error: describeError(error) });
      await this.fail(
        job,
        { code: "enqueue_failed", message: "The job could not be queued." },
        { from: ["queued"] },
      );
      return false;
    }
  }

  /**
   * A user's cancel: null when the job is already terminal. Cancels the upstream work too.
   * A job cancelled while still `queued` spent no GPU time: its credits come back. Two CAS
   * steps (from `queued`, else from `running`) tell which it was, race-free.
   */
  async cancel(job: Job): Promise<Job | null> {
    const nowIso = iso(this.now());
    const patch = { status: "cancelled", completed_at: nowIso } as const;
    const fromQueued = await this.deps.jobs.transition(job.id, ["queued"], patch, nowIso);
    if (fromQueued) await this.refund(fromQueued);
    const cancelled = fromQueued ?? (await this.deps.jobs.transition(job.id, ["running"], patch, nowIso));
    if (!cancelled) return null;
    // A claimer still submitting will find the job cancelled when recording and cancel its own upstream job.
    if (cancelled.upstream_id) await this.cancelUpstream(cancelled.upstream_id, job.id);
    this.publish(cancelled);
    await this.deliver(cancelled);
    return cancelled;
  }

  /** The dead-letter queue's verdict: the job's messages failed every retry. */
  async deadLetter(jobId: string): Promise<void> {
    const job = await this.deps.jobs.get(jobId);
    if (!job || isTerminal(job.status)) return;
    const failed = await this.fail(
      job,
      { code: "dead_lettered", message: "The job could not be processed after repeated attempts." },
      { from: ACTIVE_STATUSES, deadLettered: true, cancelUpstream: true },
    );
    if (failed) log.warn("generation dead-lettered", { job_id: jobId, attempts: failed.attempts });
  }

  /**
   * An operator's replay of a dead-lettered job: `failed` -> `queued` (error, upstream id and
   * times cleared; `attempts` kept, so the next claim is a fresh attempt number) and a new
   * submit message. The one transition out of a terminal state, and only from `failed` with
   * `dead_lettered`: a compare-and-set, so of two concurrent replays one wins. If the queue
   * refuses the message, the job goes back to where it was.
   */
  async replayDeadLetter(jobId: string): Promise<ReplayOutcome> {
    const { jobs, queue } = this.deps;
    const before = await jobs.get(jobId);
    if (!before) return { kind: "not_found" };
    const queued = await jobs.requeueDeadLettered(jobId, iso(this.now()));
    if (!queued) return { kind: "not_replayable", job: (await jobs.get(jobId)) ?? before };
    try {
      await queue.send({ type: "submit", job_id: jobId });
    } catch (error) {
      log.error("dead-letter replay: enqueue failed", { job_id: jobId, error: describeError(error) });
      await jobs.restoreDeadLettered(before, iso(this.now()));
      return { kind: "enqueue_failed" };
    }
    this.publish(queued);
    log.info("dead-letter replayed", { job_id: jobId, attempts: queued.attempts });
    return { kind: "replayed", job: queued };
  }

  private async submit(job: Job, n: number, retried: boolean): Promise<Step> {
    const now = this.now();
    const claimed = await this.deps.jobs.claimAttempt(
      job.id,
      job.attempts,
      iso(now),
      iso(now - SUBMIT_LEASE_S * 1000),
    );
    if (!claimed) {
      // Another delivery moved the job first; look once more at where it stands.
      return retried ? { kind: "retry", delaySeconds: SUBMIT_LEASE_S } : this.step(job.id, n, true);
    }
    return this.submitClaimed(claimed);
  }

  /** Submits a claimed attempt upstream and records its id; then the first poll. */
  private async submitClaimed(claimed: Job): Promise<Step> {
    this.publish(claimed);
    const { config, runpod } = this.deps;
    let upstreamId: string;
    try {
      const accepted = await runpod.run(runpodInput(config.RUNPOD_INPUT_FORMAT, claimed), {
        webhook: await webhookUrl(config, claimed.id),
        executionTimeoutMs: (config.GENERATION_TIMEOUT_S + EXECUTION_TIMEOUT_GRACE_S) * 1000,
      });
      upstreamId = accepted.id;
    } catch (error) {
      if (error instanceof RunPodError && !error.retryable) {
        await this.fail(claimed, { code: "upstream_rejected", message: error.message });
        return DONE;
      }
      // RunPod answered 429/5xx to every try: nothing was created, so give the attempt back and
      // the redelivery claims it at once. Without an answer (network, timeout) the job may exist
      // upstream: the claim stands, and only its lease running out allows a new attempt.
      if (error instanceof RunPodError && error.status !== 0) {
        const released = await this.deps.jobs.releaseAttempt(claimed.id, claimed.attempts, iso(this.now()));
        if (released) this.publish(released);
      }
      throw error;
    }
    const recorded = await this.deps.jobs.recordUpstream(
      claimed.id,
      claimed.attempts,
      upstreamId,
      iso(this.now()),
    );
    if (!recorded) {
      // Cancelled, timed out or dead-lettered while we submitted: leave no GPU work behind.
      await this.cancelUpstream(upstreamId, claimed.id);
      return DONE;
    }
    return this.poll(0, claimed);
  }

  private async check(job: Job, n: number): Promise<Step> {
    const upstreamId = job.upstream_id ?? "";
    let upstream: RunPodStatus | null;
    try {
      upstream = await this.deps.runpod.status(upstreamId);
    } catch (error) {
      if (!this.pastDeadline(job)) throw error;
      await this.timeout(job);
      return DONE;
    }
    switch (upstream?.status) {
      case undefined:
        await this.fail(job, {
          code: "upstream_lost",
          message: "The GPU worker lost the job (RunPod no longer knows it, e.g. after a restart).",
        });
        return DONE;
      case "COMPLETED":
        await this.succeed(job, upstream.output);
        return DONE;
      case "FAILED":
        await this.fail(job, { code: "upstream_failed", message: upstreamError(upstream.error) });
        return DONE;
      case "TIMED_OUT":
        await this.fail(job, {
          code: "timeout",
          message: "RunPod stopped the job at its execution timeout.",
        });
        return DONE;
      case "CANCELLED":
        await this.fail(job, { code: "upstream_cancelled", message: "The job was cancelled upstream." });
        return DONE;
      default:
        if (this.pastDeadline(job)) {
          await this.timeout(job);
          return DONE;
        }
        return this.poll(n + 1, job);
    }
  }

  private async succeed(job: Job, output: unknown): Promise<void> {
    const { jobs, store, config } = this.deps;
    let images: Job["images"];
    try {
      images = await storeJobImages(parseRunPodOutput(output), job, { config, store });
    } catch (error) {
      if (!(error instanceof OutputError)) throw error;
      await this.fail(job, { code: "bad_output", message: error.message });
      return;
    }
    const nowIso = iso(this.now());
    const done = await jobs.transition(
      job.id,
      ["running"],
      { status: "succeeded", images, error: null, completed_at: nowIso },
      nowIso,
    );
    if (done) {
      this.publish(done);
      await this.deliver(done);
      return;
    }
    // Lost the CAS. A twin finisher that won wrote these very keys: keep them. Otherwise the
    // job was cancelled or timed out meanwhile and nothing references the objects.
    const current = await jobs.get(job.id);
    if (current?.status !== "succeeded") {
      await Promise.allSettled(images.map((image) => (image.key ? store.delete(image.key) : undefined)));
    }
  }

  private async timeout(job: Job): Promise<void> {
    const limit = this.deps.config.GENERATION_TIMEOUT_S;
    await this.fail(
      job,
      { code: "timeout", message: `The job did not finish within ${limit} s of starting.` },
      { cancelUpstream: true },
    );
  }

  private async fail(job: Job, error: { code: string; message: string }, options: FailOptions = {}) {
    const nowIso = iso(this.now());
    const failed = await this.deps.jobs.transition(
      job.id,
      options.from ?? ["running"],
      {
        status: "failed",
        error,
        completed_at: nowIso,
        ...(options.deadLettered ? { dead_lettered: true } : {}),
      },
      nowIso,
    );
    if (!failed) return null;
    // Only the winner of the transition gets here: a failed job (any reason) is refunded once.
    await this.refund(failed);
    if (options.cancelUpstream && failed.upstream_id) await this.cancelUpstream(failed.upstream_id, job.id);
    this.publish(failed);
    await this.deliver(failed);
    return failed;
  }

  /** Gives a job's credits back; a ledger failure is logged and never blocks the transition. */
  private async refund(job: Job): Promise<void> {
    try {
      await this.deps.credits.refundJob(job.id);
    } catch (error) {
      log.error("refunding a job's credits failed", { job_id: job.id, error: describeError(error) });
    }
  }

  /**
   * A chat picture's message (API.md, "Conversation depth"): only the winner of a terminal
   * transition calls this, so of a webhook and a poll reporting the same end, one message is
   * stored. A failure is logged and never undoes the transition.
   */
  private async deliver(job: Job): Promise<void> {
    if (!job.chat_id) return;
    try {
      await deliverToChat(job, this.deps, this.now());
    } catch (error) {
      log.error("storing a chat picture's message failed", { job_id: job.id, error: describeError(error) });
    }
  }

  private pastDeadline(job: Job): boolean {
    if (!job.started_at) return false;
    return this.now() >= Date.parse(job.started_at) + this.deps.config.GENERATION_TIMEOUT_S * 1000;
  }

  /** The next poll: on the backoff schedule, but never later than just past the job's deadline. */
  private poll(n: number, job: Job): Step {
    const backoff = pollDelaySeconds(n, this.deps.config);
    if (!job.started_at) return { kind: "poll", n, delaySeconds: backoff };
    const deadline = Date.parse(job.started_at) + this.deps.config.GENERATION_TIMEOUT_S * 1000;
    const untilDeadline = Math.max(1, Math.ceil((deadline - this.now()) / 1000));
    return { kind: "poll", n, delaySeconds: Math.min(backoff, untilDeadline) };
  }

  private async cancelUpstream(upstreamId: string, jobId: string): Promise<void> {
    try {
      await this.deps.runpod.cancel(upstreamId);
    } catch (error) {
      log.warn("cancelling the upstream job failed", { job_id: jobId, error: describeError(error) });
    }
  }

  /** Live update to the owner's sockets; a failure is logged and never fails the job. */
  publish(job: Job): void {
    const sent = this.deps.publisher
      .publish(job.user_id, { type: "generation.updated", job: toPublicJob(job) })
      .catch((error) => {
        log.warn("publishing a generation update failed", { job_id: job.id, error: describeError(error) });
      });
    this.deps.waitUntil(sent);
  }
}

/** RunPod's `error` is a string or an object; either way a bounded message for the job. */
function upstreamError(error: unknown): string {
  const text = typeof error === "string" ? error : error === undefined ? "" : JSON.stringify(error);
  return (text || "The worker failed without a message.").slice(0, 500);
}
