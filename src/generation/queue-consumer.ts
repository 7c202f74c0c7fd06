import { describeError, log } from "../ops/log";
import { openGeneration } from "./deps";
import type { JobService } from "./job-service";
import { GenerationMessage } from "./messages";
import { retryDelaySeconds } from "./poll-schedule";

type NextPoll = MessageSendRequest<GenerationMessage> & { delaySeconds: number };

/**
 * Consumer of the `generation` queue (settings in wrangler.toml). Each message moves its job
 * one step; messages of a batch run concurrently and are acked or retried one by one, so one
 * bad job never holds back the others. The polls they schedule leave in one `sendBatch`, and
 * a message is acked only once its follow-up poll is sent. Delivery is at-least-once:
 * `JobService` makes every step safe to run twice.
 */
export async function consumeGenerations(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const { deps, service, close } = openGeneration(env, ctx);
  try {
    const steps = await Promise.all(
      batch.messages.map(async (message) => ({ message, poll: await step(message, service) })),
    );
    const polling = steps.filter((s): s is { message: Message<unknown>; poll: NextPoll } => s.poll !== null);
    if (polling.length === 0) return;
    try {
      await deps.queue.sendBatch(polling.map((s) => s.poll));
      for (const { message } of polling) message.ack();
    } catch (error) {
      // Redelivered, each finds its job's upstream id recorded and schedules its poll again.
      log.warn("scheduling polls failed; retrying their messages", {
        count: polling.length,
        error: describeError(error),
      });
      for (const { message } of polling) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  } finally {
    ctx.waitUntil(close());
  }
}

/** Runs one message's step; acks or retries it, or returns the poll it still has to schedule. */
async function step(message: Message<unknown>, service: JobService): Promise<NextPoll | null> {
  const parsed = GenerationMessage.safeParse(message.body);
  if (!parsed.success) {
    // Retrying cannot make it valid; the log line is its only trace.
    log.error("dropping a malformed generation message", { message_id: message.id });
    message.ack();
    return null;
  }
  const body = parsed.data;
  try {
    const next =
      body.type === "poll" ? await service.advance(body.job_id, body.n) : await service.start(body.job_id);
    if (next.kind === "poll") {
      return { body: { type: "poll", job_id: body.job_id, n: next.n }, delaySeconds: next.delaySeconds };
    }
    if (next.kind === "retry") message.retry({ delaySeconds: next.delaySeconds });
    else message.ack();
  } catch (error) {
    log.warn("generation step failed; retrying", {
      job_id: body.job_id,
      message_type: body.type,
      attempts: message.attempts,
      error: describeError(error),
    });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
  return null;
}
