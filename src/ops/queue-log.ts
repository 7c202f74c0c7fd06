import { log } from "./log";
import { writeMetric } from "./metrics";

type Consumer = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>;

/**
 * - `ack` / `retry`: the consumer settled the message itself;
 * - `implicit_ack`: it did neither and the batch succeeded, so the platform acks it;
 * - `batch_failed`: the consumer threw before settling it, so the platform retries it.
 */
export type QueueOutcome = "ack" | "retry" | "implicit_ack" | "batch_failed";

/** The line `withQueueLog` writes per message. */
export interface QueueLogLine {
  level: "info" | "warn";
  msg: "queue message";
  queue: string;
  message_id: string;
  message_type: string | null;
  job_id: string | null;
  attempt: number;
  outcome: QueueOutcome;
  retry_delay_s: number | null;
  duration_ms: number;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const TYPE = /^[a-z_.]{1,32}$/;

/** `type` and `job_id` of a message body, when they have the shapes this service sends; nothing else is read. */
function describeBody(body: unknown): { type: string | null; jobId: string | null } {
  if (typeof body !== "object" || body === null) return { type: null, jobId: null };
  const { type, job_id: jobId } = body as Record<string, unknown>;
  return {
    type: typeof type === "string" && TYPE.test(type) ? type : null,
    jobId: typeof jobId === "string" && ID.test(jobId) ? jobId : null,
  };
}

interface Settled {
  outcome: "ack" | "retry";
  at: number;
  delayS: number | null;
}

/**
 * Wraps a queue consumer so that every message gets one JSON line (queue, message id, job id,
 * delivery attempt, outcome, time from batch start to settling) and one `queue_message` data
 * point. The consumer sees the same batch; `ack()`/`retry()` are recorded, then passed on.
 *
 * @example
 * const consumers = { generation: withQueueLog(consumeGenerations) };
 */
export function withQueueLog(consume: Consumer): Consumer {
  return async (batch, env, ctx) => {
    const started = Date.now();
    const settled = new Map<string, Settled>();
    const settle = (id: string, outcome: Settled["outcome"], delayS: number | null = null) => {
      if (!settled.has(id)) settled.set(id, { outcome, at: Date.now(), delayS });
    };
    const messages = batch.messages.map(
      (message): Message<unknown> => ({
        get id() {
          return message.id;
        },
        get timestamp() {
          return message.timestamp;
        },
        get body() {
          return message.body;
        },
        get attempts() {
          return message.attempts;
        },
        ack() {
          settle(message.id, "ack");
          message.ack();
        },
        retry(options?: QueueRetryOptions) {
          settle(message.id, "retry", options?.delaySeconds ?? null);
          message.retry(options);
        },
      }),
    );
    const observed: MessageBatch<unknown> = {
      queue: batch.queue,
      get metadata() {
        return batch.metadata;
      },
      messages,
      ackAll() {
        for (const message of batch.messages) settle(message.id, "ack");
        batch.ackAll();
      },
      retryAll(options?: QueueRetryOptions) {
        for (const message of batch.messages) settle(message.id, "retry", options?.delaySeconds ?? null);
        batch.retryAll(options);
      },
    };
    let failed = false;
    try {
      await consume(observed, env, ctx);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      const ended = Date.now();
      for (const message of batch.messages) {
        const done = settled.get(message.id);
        const { type, jobId } = describeBody(message.body);
        const line: QueueLogLine = {
          level: done?.outcome === "retry" || (!done && failed) ? "warn" : "info",
          msg: "queue message",
          queue: batch.queue,
          message_id: message.id,
          message_type: type,
          job_id: jobId,
          attempt: message.attempts,
          outcome: done?.outcome ?? (failed ? "batch_failed" : "implicit_ack"),
          retry_delay_s: done?.delayS ?? null,
          duration_ms: (done?.at ?? ended) - started,
        };
        const { level, msg, ...fields } = line;
        log.at(level, msg, fields);
        writeMetric(
          env,
          "queue_message",
          [line.queue, line.outcome, type ?? ""],
          [1, line.duration_ms, line.attempt],
        );
      }
    }
  };
}
