import type { Config } from "../config";
import { openRepository } from "../db/repository";
import { requestChatPicture } from "../generation/chat-picture";
import { generationDeps } from "../generation/deps";
import { JobService } from "../generation/job-service";
import { toPublicJob } from "../generation/public-job";
import { withJobMetrics } from "../ops/job-metrics";
import type { ServerEvent } from "./events";
import type { ChatPictureFrame } from "./frames";

/** The `chat.picture` frame (re-exported so the session imports one module for pictures). */
export type PictureFrame = ChatPictureFrame;

export interface PictureTurnDeps {
  env: Env;
  config: Config;
  userId: string;
  /** To every socket of the user (the session's own fan-out: no RPC back into itself). */
  broadcast: (event: ServerEvent) => void;
  /** The session tells itself of a changed chat (`chatChanged`). */
  chatChanged: (chatId: string, events: ServerEvent[]) => void;
  /** An `error` frame to the socket the frame came from. */
  refuse: (code: string, detail: string, retryAfterS?: number) => void;
  background: (work: Promise<unknown>) => void;
}

/**
 * `chat.picture` after the session admitted it (turn limiter, no reply streaming): the same
 * path as `POST /chats/:id/pictures` (`requestChatPicture`), answered with frames. The job is
 * announced to every socket as `generation.updated`; a refusal is an `error` frame.
 */
export async function runPictureTurn(deps: PictureTurnDeps, frame: ChatPictureFrame): Promise<void> {
  const { env, config, userId, refuse } = deps;
  const repo = openRepository(env, config);
  try {
    const generation = {
      ...generationDeps(env, config, repo, deps.background),
      publisher: withJobMetrics(env, {
        publish: async (_user: string, event: ServerEvent) => deps.broadcast(event),
      }),
      notifyChat: async (_user: string, chatId: string, events: ServerEvent[]) =>
        deps.chatChanged(chatId, events),
    };
    const outcome = await requestChatPicture(
      {
        env,
        config,
        repo,
        jobs: new JobService(generation),
        announce: (job) => deps.broadcast({ type: "generation.updated", job: toPublicJob(job) }),
      },
      userId,
      frame.chat_id,
      frame.prompt,
    );
    switch (outcome.kind) {
      case "not_found":
        return refuse("not_found", "No such chat.");
      case "budget_exhausted": {
        const cost = `${outcome.cost} credit${outcome.cost === 1 ? "" : "s"}`;
        return refuse(
          "budget_exhausted",
          `Today's credits cannot pay for this picture (${cost}); they reset at 00:00 UTC.`,
          outcome.retryAfterS,
        );
      }
      case "quota_exceeded":
        return refuse(
          "quota_exceeded",
          `At most ${outcome.maxActive} generations may be queued or running at once; wait for one to finish.`,
        );
      case "unavailable":
        return refuse("upstream_unavailable", "The generation queue is unavailable; retry shortly.");
      case "created":
        return;
    }
  } finally {
    await repo.sql.close();
  }
}
