import { z } from "zod";
import { Id, ListQuery } from "../../http/schemas";

export const ChatParams = z.object({ id: Id });

export const ChatCreate = z.object({ character_id: Id }).strict();

export const ChatSchema = z.object({
  id: z.string(),
  character_id: z.string(),
  title: z.string(),
  created_at: z.string(),
  last_message_at: z.string(),
});

/** A row of GET /chats: the chat and the first 120 characters of its last message. */
export const ChatListItemSchema = ChatSchema.extend({
  last_message_preview: z.string().max(120).nullable(),
});

export const MessageSchema = z.object({
  id: z.string(),
  chat_id: z.string(),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  /** `cancelled`/`failed`: a reply cut short, holding what was streamed. */
  status: z.enum(["complete", "cancelled", "failed"]),
  created_at: z.string(),
});

/** `before` is a message id: the page holds the messages older than it (`next_cursor` is one). */
export const MessagesQuery = z.object({
  limit: ListQuery.shape.limit,
  before: Id.optional(),
});
