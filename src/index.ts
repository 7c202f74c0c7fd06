import { createApp } from "./app";
import { consumeDeadLetters } from "./generation/dlq-consumer";
import { GENERATION_DLQ, GENERATION_QUEUE } from "./generation/messages";
import { consumeGenerations } from "./generation/queue-consumer";
import { sweepGenerations } from "./generation/sweep";

export { RateLimiter } from "../durable-objects/rate-limiter";
export { UserSession } from "../durable-objects/user-session";

const app = createApp();

/** Queue name -> consumer (queues and their settings: wrangler.toml). */
const consumers: Record<string, (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>> = {
  [GENERATION_QUEUE]: consumeGenerations,
  [GENERATION_DLQ]: consumeDeadLetters,
};

export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    const consume = consumers[batch.queue];
    if (!consume) throw new Error(`no consumer for queue ${batch.queue}`);
    await consume(batch, env, ctx);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepGenerations(env, ctx));
  },
} satisfies ExportedHandler<Env>;
