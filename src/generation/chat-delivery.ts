import type { Job, Message, MessageStatus, NewMessage } from "../db/models";
import type { ChatsRepo } from "../db/repos/chats";
import { newId } from "../lib/ids";
import { describeError, log } from "../ops/log";
import type { ServerEvent } from "../realtime/events";

/**
 * Tells a user's session that a chat changed: it forgets what it remembered of the chat and
 * every socket gets `events` (`UserSession.chatChanged`).
 */
export type ChatNotifier = (userId: string, chatId: string, events: ServerEvent[]) => Promise<void>;

/** Through the user's `UserSession` object, as the REST chat routes tell it of their changes. */
export function sessionChatNotifier(env: Pick<Env, "USER_SESSION">): ChatNotifier {
  return async (userId, chatId, events) => {
    await env.USER_SESSION.get(env.USER_SESSION.idFromName(userId)).chatChanged(chatId, events);
  };
}

export interface ChatDeliveryDeps {
  chats: Pick<ChatsRepo, "addMessageIfChatExists">;
  notifyChat: ChatNotifier;
}

const STATUS_OF: Record<"succeeded" | "failed" | "cancelled", MessageStatus> = {
  succeeded: "complete",
  failed: "failed",
  cancelled: "cancelled",
};

/**
 * The message a finished chat picture leaves in its chat: the character's reply carrying the
 * image (no words: the picture is the reply, and an empty reply stays out of the model's
 * prompt), or an empty `failed`/`cancelled` reply so the thread shows that none is coming.
 */
export function pictureMessage(job: Job & { chat_id: string }, nowMs: number): NewMessage {
  const image = job.images[0];
  const status =
    job.status === "succeeded" && !image
      ? "failed"
      : (STATUS_OF[job.status as keyof typeof STATUS_OF] ?? "failed");
  return {
    id: newId("msg", nowMs),
    chat_id: job.chat_id,
    role: "assistant",
    content: "",
    status,
    created_at: new Date(nowMs).toISOString(),
    attachments:
      status === "complete" && image
        ? [{ kind: "image", job_id: job.id, url: image.url, width: image.width, height: image.height }]
        : [],
  };
}

/**
 * Called once per job, by the winner of its terminal transition: a job made for a chat stores
 * its message there and every socket of the user gets it as `chat.message`. A chat deleted
 * meanwhile gets nothing (and no error). Resolves to the stored message, or null.
 */
export async function deliverToChat(
  job: Job,
  deps: ChatDeliveryDeps,
  nowMs = Date.now(),
): Promise<Message | null> {
  const chatId = job.chat_id;
  if (!chatId) return null;
  const message = await deps.chats.addMessageIfChatExists(
    pictureMessage({ ...job, chat_id: chatId }, nowMs),
    job.user_id,
  );
  if (!message) return null;
  // Stored is delivered: a socket that misses the push finds it in the chat's history.
  await deps.notifyChat(job.user_id, chatId, [{ type: "chat.message", message }]).catch((error: unknown) => {
    log.warn("session not told of a chat picture", { job_id: job.id, error: describeError(error) });
  });
  return message;
}
