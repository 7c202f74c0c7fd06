import type { Chat, Job, Message } from "../db/models";

/** Public view of a job (API.md's shape: no owner, upstream id or storage keys). */
export type PublicJob = Omit<Job, "user_id" | "upstream_id" | "dead_lettered" | "updated_at" | "chat_id"> & {
  chat_id: string | null;
};

/** Server -> client frames of the real-time session (API.md, "Real-time session"). */
export type ServerEvent =
  | { type: "chat.message"; message: Message; client_id?: string }
  | { type: "chat.delta"; chat_id: string; message_id: string; delta: string }
  | { type: "chat.done"; chat_id: string; message: Message }
  /** Delete-from-here over REST: these messages are gone (oldest first). */
  | { type: "chat.messages_deleted"; chat_id: string; message_ids: string[] }
  /** `PATCH /chats/:id` (title, summary) or a background summary fold. */
  | { type: "chat.updated"; chat: Chat }
  | { type: "generation.updated"; job: PublicJob }
  | { type: "error"; code: string; detail: string; chat_id?: string; retry_after_s?: number }
  | { type: "pong" };
