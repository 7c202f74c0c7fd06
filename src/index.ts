import { createApp } from "./app";
import { consumeDeadLetters } from "./generation/dlq-consumer";
import { GENERATION_DLQ, GENERATION_QUEUE } from "./generation/messages";
import { consumeGenerations } from "./generation/queue-consumer";
import { sweepGenerations } from "./generation/sweep";
import { nightlyMaintenance } from "./ops/nightly";
import { withQueueLog } from "./ops/queue-log";
import { withOptionalSentry } from "./ops/sentry";

export { RateLimiter } from "../durable-objects/rate-limiter";
export { SessionStats } from "../durable-objects/session-stats";
export { UserSession } from "../durable-objects/user-session";

const app = createApp();

type Consumer = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>;

/** Queue name -> consumer (queues and their settings: wrangler.toml). */
const consumers: Record<string, Consumer> = {
  [GENERATION_QUEUE]: withQueueLog(consumeGenerations),
  [GENERATION_DLQ]: withQueueLog(consumeDeadLetters),
};

/** Cron -> task (schedules: wrangler.toml `[triggers]`). */
const crons: Record<
  string,
  (env: Env, ctx: ExecutionContext, controller: ScheduledController) => Promise<void>
> = {
  "* * * * *": sweepGenerations,
  "0 3 * * *": nightlyMaintenance,
};

/** Sentry wraps the handlers only when SENTRY_DSN is set (src/ops/sentry.ts). */
export default withOptionalSentry({
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    const consume = consumers[batch.queue];
    if (!consume) throw new Error(`no consumer for queue ${batch.queue}`);
    await consume(batch, env, ctx);
  },
  async scheduled(controller, env, ctx) {
    const task = crons[controller.cron];
    if (!task) throw new Error(`no task for cron ${controller.cron}`);
    await task(env, ctx, controller);
  },
} satisfies ExportedHandler<Env>);
