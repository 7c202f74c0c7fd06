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
  /** Rolling long-term memory; null until turns fall out of the prompt (or the user writes one). */
  summary: z.string().nullable(),
  /** The newest message folded into `summary`. */
  summary_through: z.string().nullable(),
});

export const MessageSchema = z.object({
  id: z.string(),
  chat_id: z.string(),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  /** `cancelled`/`failed`: a reply cut short, holding what was streamed. */
  status: z.enum(["complete", "cancelled", "failed"]),
  created_at: z.string(),
  /** The selected alternative of an assistant reply. */
  swipe_index: z.number().int(),
  swipe_count: z.number().int(),
  edited_at: z.string().nullable(),
  attachments: z.array(
    z.object({
      kind: z.literal("image"),
      job_id: z.string(),
      url: z.string(),
      width: z.number().int(),
      height: z.number().int(),
    }),
  ),
});

/** `before` is a message id: the page holds the messages older than it (`next_cursor` is one). */
export const MessagesQuery = z.object({
  limit: ListQuery.shape.limit,
  before: Id.optional(),
});
