import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  type QueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { expect } from "vitest";
import type { GenerationMessage } from "../../src/generation/messages";
import worker from "../../src/index";
import type { PublicJob } from "../../src/realtime/events";
import { call, type TestUser } from "./support/session";

export { newUser, type TestUser } from "./support/session";

const ORIGIN = "http://127.0.0.1:8787";
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/** A prompt marker unique to one test, so `/_emulator/jobs?prompt_contains=` sees only its jobs. */
export function uniqueTag(): string {
  return `tag${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/**
 * An emulator directive for a prompt (emulator/runpod/directives.mjs), e.g. `[[emu:job=hang]]`.
 * The emulator rejects unknown keys and values, so a typo fails the test instead of passing.
 */
export function directive(values: Record<string, string | number>): string {
  return `[[emu:${Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join(";")}]]`;
}

/** Small, fast requests: the emulator renders 256 x 256 PNGs in milliseconds. */
export const SMALL = { width: 256, height: 256, steps: 4 } as const;

type Fetcher = (
  user: TestUser | null,
  path: string,
  init?: RequestInit & { json?: unknown },
) => Promise<Response>;

/** `POST /generate` through `fetcher` (the real Worker by default). */
export function generate(
  user: TestUser,
  body: unknown,
  headers: Record<string, string> = {},
  fetcher: Fetcher = call,
): Promise<Response> {
  return fetcher(user, "/generate", { json: body, headers });
}

export async function createJob(user: TestUser, body: Record<string, unknown>, fetcher: Fetcher = call) {
  const res = await generate(user, { ...SMALL, ...body }, {}, fetcher);
  expect(res.status, await res.clone().text()).toBe(202);
  return res.json<PublicJob>();
}

export async function getJob(user: TestUser, id: string, fetcher: Fetcher = call): Promise<PublicJob> {
  const res = await fetcher(user, `/generations/${id}`);
  expect(res.status).toBe(200);
  return res.json<PublicJob>();
}

/** Polls `GET /generations/:id` until `check` holds, failing the test after `timeoutMs`. */
export async function waitForJob(
  user: TestUser,
  id: string,
  check: (job: PublicJob) => boolean = (job) => TERMINAL.has(job.status),
  timeoutMs = 20_000,
): Promise<PublicJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJob(user, id);
    if (check(job)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${id} never reached the expected state; last: ${JSON.stringify(job)}`);
    await sleep(100);
  }
}

export interface EmulatorJob {
  id: string;
  endpointId: string;
  status: string;
  input: Record<string, unknown>;
  webhook: string | null;
  cancelled: boolean;
  webhooksSent: number;
}

/** The emulator's record of every upstream job whose prompt contains `tag`. */
export async function emulatorJobs(tag: string): Promise<EmulatorJob[]> {
  const res = await fetch(`${env.EMULATOR_URL}/_emulator/jobs?prompt_contains=${encodeURIComponent(tag)}`);
  return (await res.json<{ jobs: EmulatorJob[] }>()).jobs;
}

/** Waits until the emulator has a job for `tag` matching `check`. */
export async function waitForEmulatorJob(
  tag: string,
  check: (job: EmulatorJob) => boolean,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await emulatorJobs(tag)).find(check);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(`no emulator job for ${tag} matched; have ${JSON.stringify(await emulatorJobs(tag))}`);
    }
    await sleep(50);
  }
}

/** What RunPod POSTs to a job's webhook: its `/status` body. */
export async function upstreamStatus(job: EmulatorJob): Promise<unknown> {
  const res = await fetch(`${env.EMULATOR_URL}/v2/${job.endpointId}/status/${job.id}`, {
    headers: { Authorization: "Bearer test-runpod-key" },
  });
  return res.json();
}

/** Every stored object of a job (keys end in `/<jobId>-<n>.<ext>`). */
export async function storedImagesOf(jobId: string, bucket: R2Bucket = env.IMAGES): Promise<string[]> {
  const listed = await bucket.list({ prefix: "images/" });
  return listed.objects.map((object) => object.key).filter((key) => key.includes(`/${jobId}-`));
}

/** Messages the Worker sent, as a `Queue` stand-in records them. */
export class RecordingQueue {
  sent: { body: GenerationMessage; delaySeconds?: number }[] = [];

  async send(body: GenerationMessage, options?: QueueSendOptions): Promise<void> {
    this.sent.push({ body, delaySeconds: options?.delaySeconds });
  }

  async sendBatch(messages: Iterable<MessageSendRequest<GenerationMessage>>): Promise<void> {
    for (const message of messages)
      this.sent.push({ body: message.body, delaySeconds: message.delaySeconds });
  }

  /** Hands over what was sent so far and forgets it. */
  take(): { body: GenerationMessage; delaySeconds?: number }[] {
    const taken = this.sent;
    this.sent = [];
    return taken;
  }
}

/**
 * The Worker on an env of the test's making. Its queue is a `RecordingQueue`: no consumer
 * runs on its own, and the test delivers each message itself (`deliver`), as often and in
 * whatever order the platform might, e.g. twice for a redelivery.
 */
export function harness(overrides: Record<string, unknown> = {}) {
  const queue = new RecordingQueue();
  const testEnv = { ...env, GENERATION_QUEUE: queue, ...overrides } as unknown as Env;

  const fetchRaw = async (url: string, init?: RequestInit): Promise<Response> => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(url, init) as Parameters<typeof worker.fetch>[0],
      testEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  };

  const fetcher: Fetcher = (user, path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("CF-Connecting-IP", user?.ip ?? "10.255.255.1");
    if (user) headers.set("Authorization", `Bearer ${user.token}`);
    const { json, ...rest } = init;
    if (json !== undefined) headers.set("Content-Type", "application/json");
    return fetchRaw(`${ORIGIN}/api/v1${path}`, {
      ...rest,
      headers,
      ...(json !== undefined ? { method: rest.method ?? "POST", body: JSON.stringify(json) } : {}),
    });
  };

  return {
    env: testEnv,
    queue,
    fetch: fetcher,
    fetchRaw,
    /** Runs the exported queue handler on `bodies` as one batch. */
    deliver: (bodies: GenerationMessage[], queueName = "generation", attempts = 1) =>
      runQueue(queueName, bodies, testEnv, attempts),
    /** Delivers every message sent so far, as one batch. */
    deliverSent: () =>
      runQueue(
        "generation",
        queue.take().map((m) => m.body),
        testEnv,
      ),
    /** Runs the exported cron handler (the sweep). */
    async scheduled(): Promise<void> {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ cron: "* * * * *" }), testEnv, ctx);
      await waitOnExecutionContext(ctx);
    },
    /** Plays RunPod: POSTs `body` to the webhook URL the job was registered with. */
    deliverWebhook: (job: EmulatorJob, body: unknown, pathname?: string) =>
      fetchRaw(`${ORIGIN}${pathname ?? new URL(job.webhook ?? "").pathname}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
  };
}

/** Runs the Worker's exported queue handler on hand-made messages, as the platform would. */
export async function runQueue(
  queueName: string,
  bodies: GenerationMessage[],
  testEnv: Env = env,
  attempts = 1,
): Promise<QueueResult> {
  const batch = createMessageBatch<unknown>(
    queueName,
    bodies.map((body, i) => ({
      id: `msg-${crypto.randomUUID()}-${i}`,
      timestamp: new Date(),
      attempts,
      body,
    })),
  );
  // getQueueResult reports which messages were retried but not their delays: record those here.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      delays.set(message.id, options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  return {
    ...result,
    retryMessages: result.retryMessages.map((m) => ({ ...m, delaySeconds: delays.get(m.msgId) })),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
