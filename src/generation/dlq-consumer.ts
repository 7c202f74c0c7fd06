import { describeError, log } from "../ops/log";
import { openGeneration } from "./deps";
import { GenerationMessage } from "./messages";

/**
 * Consumer of `generation-dlq`: a message lands here after failing every retry of the
 * `generation` queue. Its job fails with `error.code = "dead_lettered"` (and
 * `dead_lettered = 1` for the admin view), so it leaves the user's quota instead of
 * hanging in `queued`/`running` forever; any upstream work is cancelled.
 */
export async function consumeDeadLetters(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const { service, close } = openGeneration(env, ctx);
  try {
    await Promise.all(
      batch.messages.map(async (message) => {
        const parsed = GenerationMessage.safeParse(message.body);
        if (!parsed.success) {
          log.error("dropping a malformed dead-lettered message", { message_id: message.id });
          message.ack();
          return;
        }
        try {
          await service.deadLetter(parsed.data.job_id);
          message.ack();
        } catch (error) {
          log.error("failing a dead-lettered job failed; retrying", {
            job_id: parsed.data.job_id,
            error: describeError(error),
          });
          message.retry();
        }
      }),
    );
  } finally {
    ctx.waitUntil(close());
  }
}
