import { countSpend, imageCost } from "../abuse/credits";
import type { Config } from "../config";
import { lastExchange, PICTURE_PARAMS, picturePrompt } from "../conversation/picture-prompt";
import type { Job } from "../db/models";
import type { Repository } from "../db/repository";
import type { JobService } from "./job-service";
import { newQueuedJob } from "./new-job";

/** Messages read for the scene of a picture asked for without a prompt. */
const SCENE_MESSAGES = 6;

/** How a picture request ended; the route answers HTTP, the session an `error` frame. */
export type PictureOutcome =
  | { kind: "created"; job: Job }
  | { kind: "not_found" }
  | { kind: "budget_exhausted"; cost: number; retryAfterS: number }
  | { kind: "quota_exceeded"; maxActive: number }
  /** The queue refused the submit message: the job failed at once and was refunded. */
  | { kind: "unavailable" };

export interface PictureDeps {
  env: Partial<Pick<Env, "METRICS">>;
  config: Pick<Config, "MAX_ACTIVE_JOBS_PER_USER">;
  repo: Pick<Repository, "chats" | "characters">;
  jobs: JobService;
  /**
   * Announces the new job to the user's sockets as `generation.updated` (not through the
   * state machine's publisher, which counts transitions, and a new job is none).
   */
  announce: (job: Job) => void;
}

/**
 * The one path of `chat.picture` and `POST /chats/:id/pictures`: a generation job linked to
 * the chat (`chat_id`), made from the character's appearance plus `prompt` or the scene of the
 * last exchange, accepted like any job (credits charged, the active-job cap) and queued. The
 * new job is announced as `generation.updated`, so every socket can show it being made; its
 * terminal transition stores the message in the chat (`chat-delivery.ts`).
 * Turn limits and "one reply at a time" are the caller's (they differ between socket and REST).
 */
export async function requestChatPicture(
  deps: PictureDeps,
  userId: string,
  chatId: string,
  prompt: string | undefined,
  nowMs = Date.now(),
): Promise<PictureOutcome> {
  const { chats, characters } = deps.repo;
  const chat = await chats.get(chatId, userId);
  if (!chat) return { kind: "not_found" };
  const [character, recent] = await Promise.all([
    characters.get(chat.character_id, userId),
    prompt?.trim() ? Promise.resolve([]) : chats.messages(chatId, SCENE_MESSAGES),
  ]);
  const scene = lastExchange([...recent].reverse());
  const job = newQueuedJob(
    {
      user_id: userId,
      prompt: picturePrompt(
        { name: character?.name ?? "", appearance: character?.appearance ?? "" },
        prompt,
        scene,
      ),
      negative_prompt: "",
      params: {
        width: PICTURE_PARAMS.width,
        height: PICTURE_PARAMS.height,
        steps: PICTURE_PARAMS.steps,
        guidance: PICTURE_PARAMS.guidance,
      },
      character_id: character ? chat.character_id : null,
      chat_id: chatId,
    },
    nowMs,
  );
  const result = await deps.jobs.accept(job);
  if (result.kind === "budget_exhausted") {
    countSpend(deps.env, "image", "refused", userId, result.cost);
    return result;
  }
  if (result.kind !== "created") {
    // No idempotency key here, so neither `replayed` nor `key_conflict` can happen.
    return { kind: "quota_exceeded", maxActive: deps.config.MAX_ACTIVE_JOBS_PER_USER };
  }
  countSpend(deps.env, "image", "charged", userId, imageCost(job.params));
  if (!(await deps.jobs.enqueue(job))) return { kind: "unavailable" };
  deps.announce(job);
  return { kind: "created", job };
}
