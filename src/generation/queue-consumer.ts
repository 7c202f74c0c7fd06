import { openGeneration } from "./deps";
import type { JobService } from "./job-service";
import { describeError, log } from "./log";
import { GenerationMessage } from "./messages";
import { retryDelaySeconds } from "./poll-schedule";

/**
 * Consumer of the `generation` queue (settings in wrangler.toml). Each message moves its job
 * one step; messages of a batch run concurrently and are acked or retried one by one, so one
 * bad job never holds back the others. Delivery is at-least-once: `JobService` makes every
 * step safe to run twice.
 */
export async function consumeGenerations(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const { deps, service, close } = openGeneration(env, ctx);
  try {
    await Promise.all(batch.messages.map((message) => handle(message, service, deps.queue)));
  } finally {
    ctx.waitUntil(close());
  }
}

async function handle(message: Message<unknown>, service: JobService, queue: Queue<GenerationMessage>) {
  const parsed = GenerationMessage.safeParse(message.body);
  if (!parsed.success) {
    // Retrying cannot make it valid; the log line is its only trace.
    log("error", "dropping a malformed generation message", { message_id: message.id });
    message.ack();
    return;
  }
  const body = parsed.data;
  try {
    const step = await service.advance(body.job_id, body.type === "poll" ? body.n : 0);
    if (step.kind === "retry") {
      message.retry({ delaySeconds: step.delaySeconds });
      return;
    }
    if (step.kind === "poll") {
      await queue.send({ type: "poll", job_id: body.job_id, n: step.n }, { delaySeconds: step.delaySeconds });
    }
    message.ack();
  } catch (error) {
    log("warn", "generation step failed; retrying", {
      job_id: body.job_id,
      message_type: body.type,
      attempts: message.attempts,
      error: describeError(error),
    });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}
