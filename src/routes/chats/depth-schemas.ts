import { z } from "zod";
import { Id } from "../../http/schemas";
import { MAX_CONTENT_CHARS } from "../../realtime/frames";

/** The longest summary a user may write (the model writes at most 2000 characters). */
export const MAX_SUMMARY_CHARS = 4000;

export const MessageParams = z.object({ id: Id, message_id: Id });

export const ChatPatch = z
  .object({
    title: z.string().trim().min(1).max(120).optional(),
    summary: z.string().max(MAX_SUMMARY_CHARS).nullable().optional(),
  })
  .strict();

export const MessagePatch = z
  .object({
    content: z
      .string()
      .min(1)
      .max(MAX_CONTENT_CHARS)
      .refine((text) => text.trim() !== "", "must not be blank"),
  })
  .strict();

export const SwipeList = z.object({
  items: z.array(z.object({ index: z.number().int(), content: z.string(), created_at: z.string() })),
});

export const ContextSchema = z.object({
  messages: z.array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() })),
  chars: z.number().int(),
  budget_chars: z.number().int(),
  lore: z.array(z.object({ index: z.number().int(), name: z.string().nullable() })),
  summary_used: z.boolean(),
});

export const ChatImportQuery = z.object({ character_id: Id });

/** `POST /chats/:id/pictures`: what to show (<= 1000 characters, as the `chat.picture` frame); without it, the scene. */
export const PictureBody = z.object({ prompt: z.string().trim().min(1).max(1000).optional() }).strict();
