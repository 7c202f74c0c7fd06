import { type Config, loadConfig } from "../config";
import type { ChatsRepo } from "../db/repos/chats";
import type { CreditsRepo } from "../db/repos/credits";
import type { JobsRepo } from "../db/repos/jobs";
import { openRepository, type Repository } from "../db/repository";
import { withJobMetrics } from "../ops/job-metrics";
import { sessionPublisher, type UserEventPublisher } from "../realtime/publisher";
import type { ImageStore } from "../storage/image-store";
import { openImageStore } from "../storage/index";
import { type ChatNotifier, sessionChatNotifier } from "./chat-delivery";
import { JobService } from "./job-service";
import type { GenerationMessage } from "./messages";
import { RunPodClient } from "./runpod-client";

/** Everything the generation state machine talks to, built once per request or queue batch. */
export interface GenerationDeps {
  config: Config;
  jobs: JobsRepo;
  /** The credit ledger: charges when a job is accepted, refunds from the state machine. */
  credits: CreditsRepo;
  runpod: RunPodClient;
  store: ImageStore;
  publisher: UserEventPublisher;
  /** Where a finished chat picture leaves its message (`chat-delivery.ts`). */
  chats: Pick<ChatsRepo, "addMessageIfChatExists">;
  /** Tells the user's sockets of that message. */
  notifyChat: ChatNotifier;
  queue: Queue<GenerationMessage>;
  /** Keeps background work (live updates) alive after the response or batch. */
  waitUntil: (promise: Promise<unknown>) => void;
}

export function generationDeps(
  env: Env,
  config: Config,
  repo: Repository,
  waitUntil: (promise: Promise<unknown>) => void,
): GenerationDeps {
  return {
    config,
    jobs: repo.jobs,
    credits: repo.credits,
    runpod: new RunPodClient({
      baseUrl: config.RUNPOD_API_BASE,
      endpointId: config.RUNPOD_IMAGE_ENDPOINT_ID,
      apiKey: config.RUNPOD_API_KEY,
    }),
    store: openImageStore(env, config),
    // Every won transition is published: the one place to also count it (src/ops/job-metrics.ts).
    publisher: withJobMetrics(env, sessionPublisher(env)),
    chats: repo.chats,
    notifyChat: sessionChatNotifier(env),
    queue: env.GENERATION_QUEUE as Queue<GenerationMessage>,
    waitUntil,
  };
}

/**
 * The state machine for a queue batch or a cron run, on a database connection of its own;
 * `close` releases the connection when the work is done.
 */
export function openGeneration(env: Env, ctx: ExecutionContext) {
  const config = loadConfig(env);
  const repo = openRepository(env, config);
  const deps = generationDeps(env, config, repo, (promise) => ctx.waitUntil(promise));
  return { deps, service: new JobService(deps), close: () => repo.sql.close() };
}
