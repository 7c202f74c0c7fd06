import { randomUUID } from "node:crypto";
import { createFaultInjector } from "./faults.mjs";
import { HttpError } from "./http.mjs";
import { buildOutput } from "./images.mjs";
import { createTimers } from "./timers.mjs";
import { createWebhookSender } from "./webhook.mjs";

/** RunPod's default execution timeout when a job sets no `policy.executionTimeout`. */
const DEFAULT_EXECUTION_TIMEOUT_MS = 600_000;
const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"]);
const WEBHOOK_STATUSES = new Set(["COMPLETED", "FAILED", "TIMED_OUT"]);

/**
 * The emulated queue and workers: every job's lifecycle IN_QUEUE -> IN_PROGRESS -> terminal,
 * driven by timers, plus webhooks, cancellation, timeouts and expiry of finished jobs.
 * @param {{getConfig: () => Record<string, any>}} deps
 */
export function createJobStore({ getConfig }) {
  /** id -> job; ids are UUIDs, so one map serves every endpoint */
  const jobs = new Map();
  const finishedCounts = new Map();
  const timers = createTimers();
  const faults = createFaultInjector();
  let shutdown = new AbortController();
  const webhooks = createWebhookSender({ timers, getConfig, shutdownSignal: () => shutdown.signal });
  let sweeper = startSweeper();

  function startSweeper() {
    const handle = setInterval(() => expireFinished(), 30_000);
    handle.unref?.();
    return handle;
  }

  function expireFinished() {
    const cutoff = Date.now() - getConfig().retentionMs;
    for (const [id, job] of jobs) {
      if (job.finishedAt !== null && job.finishedAt <= cutoff && job.pendingWebhooks === 0) jobs.delete(id);
    }
  }

  /**
   * Accepts a job or throws the injected submit fault.
   * @param {{endpointId: string, input: object, request: object, webhook: string | null,
   *   policy: {executionTimeout?: number, ttl?: number}, baseUrl: string, sync: boolean}} submission
   */
  function submit({ endpointId, input, request, webhook, policy, baseUrl, sync }) {
    const config = getConfig();
    const { rejectWith, fault } = faults.onSubmit(request, config.faultRate);
    if (rejectWith !== null) {
      throw new HttpError(
        rejectWith,
        rejectWith === 429 ? "rate limited (emulated)" : "service unavailable (emulated)",
        {
          headers: rejectWith === 429 ? { "retry-after": "1" } : {},
        },
      );
    }
    const job = {
      id: `${sync ? "sync-" : ""}${randomUUID()}-u1`,
      endpointId,
      status: "IN_QUEUE",
      input,
      request,
      format: request.directives.format ?? (request.style === "comfyui" ? "comfyui" : "sdxl"),
      webhook,
      policy,
      baseUrl,
      fault,
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      error: null,
      cancelled: false,
      webhooksSent: 0,
      webhookFailures: 0,
      pendingWebhooks: 0,
      phaseTimer: null,
      deadlineTimer: null,
      waiters: new Set(),
    };
    jobs.set(job.id, job);
    if (policy.ttl !== undefined && policy.ttl < config.queueDelayMs) {
      job.phaseTimer = timers.after(policy.ttl, () =>
        finish(job, "TIMED_OUT", `job waited longer than ttl ${policy.ttl} ms`),
      );
    } else {
      job.phaseTimer = timers.after(config.queueDelayMs, () => start(job));
    }
    return job;
  }

  function start(job) {
    const config = getConfig();
    job.status = "IN_PROGRESS";
    job.startedAt = Date.now();
    const { directives, problem } = job.request;
    if (problem) {
      finish(job, "FAILED", problem);
      return;
    }
    const timeout = job.policy.executionTimeout ?? DEFAULT_EXECUTION_TIMEOUT_MS;
    job.deadlineTimer = timers.after(timeout, () =>
      finish(job, "TIMED_OUT", `job exceeded executionTimeout of ${timeout} ms`),
    );
    if (directives.job === "hang") return;
    const gpuMs = directives.gpu ?? config.gpuTimeMs + Math.floor(Math.random() * (config.gpuJitterMs + 1));
    const failure =
      directives.job === "fail"
        ? "emulated worker failure ([[emu:job=fail]])"
        : job.fault === "fail"
          ? "emulated worker failure (faultRate)"
          : null;
    job.phaseTimer = timers.after(gpuMs, () =>
      failure ? finish(job, "FAILED", failure) : finish(job, "COMPLETED", null),
    );
  }

  function finish(job, status, error) {
    if (TERMINAL.has(job.status)) return;
    timers.cancel(job.phaseTimer);
    timers.cancel(job.deadlineTimer);
    job.phaseTimer = job.deadlineTimer = null;
    job.status = status;
    job.error = error;
    job.finishedAt = Date.now();
    countFinished(job.endpointId, status);
    for (const wake of job.waiters) wake();
    job.waiters.clear();
    if (job.webhook && WEBHOOK_STATUSES.has(status)) webhooks.send(job, statusOf(job));
  }

  function countFinished(endpointId, status) {
    const counts = finishedCounts.get(endpointId) ?? { completed: 0, failed: 0 };
    if (status === "COMPLETED") counts.completed++;
    if (status === "FAILED" || status === "TIMED_OUT") counts.failed++;
    finishedCounts.set(endpointId, counts);
  }

  /** @returns the job of this endpoint, or throws 404 */
  function get(endpointId, id) {
    const job = jobs.get(id);
    const expired = job?.finishedAt != null && job.finishedAt <= Date.now() - getConfig().retentionMs;
    if (!job || job.endpointId !== endpointId || expired) throw new HttpError(404, `job ${id} not found`);
    return job;
  }

  /** Marks the cancel as received; only a job not yet terminal becomes CANCELLED. */
  function cancel(job) {
    job.cancelled = true;
    finish(job, "CANCELLED", null);
  }

  /** The body of `/status/{id}`, `/runsync` and the webhook. */
  function statusOf(job) {
    const now = Date.now();
    const startedOrNow = job.startedAt ?? job.finishedAt ?? now;
    const body = {
      id: job.id,
      status: job.status,
      delayTime: startedOrNow - job.createdAt,
      executionTime: job.startedAt === null ? 0 : (job.finishedAt ?? now) - job.startedAt,
    };
    if (job.status === "COMPLETED") body.output = buildOutput(job);
    if (job.error) body.error = job.error;
    return body;
  }

  /** Resolves when the job is terminal or after `ms`, whichever comes first. */
  function waitForTerminal(job, ms, signal) {
    if (TERMINAL.has(job.status)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        timers.cancel(timer);
        job.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = timers.after(ms, done);
      job.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  function health(endpointId) {
    let inQueue = 0;
    let inProgress = 0;
    for (const job of jobs.values()) {
      if (job.endpointId !== endpointId) continue;
      if (job.status === "IN_QUEUE") inQueue++;
      if (job.status === "IN_PROGRESS") inProgress++;
    }
    const { completed, failed } = finishedCounts.get(endpointId) ?? { completed: 0, failed: 0 };
    return {
      jobs: { completed, failed, inProgress, inQueue, retried: 0 },
      workers: { idle: inProgress === 0 ? 1 : 0, running: inProgress },
    };
  }

  /** Jobs for test assertions, oldest first. */
  function list({ promptContains, endpointId, status } = {}) {
    const rows = [];
    for (const job of jobs.values()) {
      if (promptContains && !job.request.prompt.includes(promptContains)) continue;
      if (endpointId && job.endpointId !== endpointId) continue;
      if (status && job.status !== status) continue;
      rows.push({
        id: job.id,
        endpointId: job.endpointId,
        status: job.status,
        input: job.input,
        webhook: job.webhook,
        cancelled: job.cancelled,
        fault: job.fault,
        createdAt: new Date(job.createdAt).toISOString(),
        startedAt: job.startedAt === null ? null : new Date(job.startedAt).toISOString(),
        finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
        webhooksSent: job.webhooksSent,
        webhookFailures: job.webhookFailures,
      });
    }
    return rows;
  }

  /**
   * Forgets the jobs whose prompt contains `promptContains` (all when empty), as a restarted
   * RunPod worker or emulator would: `/status` answers 404 for them. Their timers stop with them.
   * @returns how many were forgotten
   */
  function forget(promptContains = "") {
    let removed = 0;
    for (const [id, job] of jobs) {
      if (promptContains && !job.request.prompt.includes(promptContains)) continue;
      timers.cancel(job.phaseTimer);
      timers.cancel(job.deadlineTimer);
      jobs.delete(id);
      removed++;
    }
    return removed;
  }

  /** Looks a job up by id alone, for files served on its behalf. */
  function find(id) {
    return jobs.get(id) ?? null;
  }

  /** Cancels every job still waiting in the queue of one endpoint; returns how many. */
  function purgeQueue(endpointId) {
    let removed = 0;
    for (const job of jobs.values()) {
      if (job.endpointId !== endpointId || job.status !== "IN_QUEUE") continue;
      finish(job, "CANCELLED", null);
      removed++;
    }
    return removed;
  }

  function stop() {
    shutdown.abort();
    timers.cancelAll();
    clearInterval(sweeper);
    for (const job of jobs.values()) for (const wake of job.waiters) wake();
  }

  /** Forgets every job, counter and pending timer; the store keeps working afterwards. */
  function reset() {
    stop();
    jobs.clear();
    finishedCounts.clear();
    faults.reset();
    shutdown = new AbortController();
    sweeper = startSweeper();
  }

  return {
    submit,
    get,
    find,
    cancel,
    purgeQueue,
    statusOf,
    waitForTerminal,
    health,
    list,
    forget,
    reset,
    close: stop,
  };
}
