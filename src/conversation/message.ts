/** An image the character sent into the chat (`chat.picture`). */
export interface ImageAttachment {
  kind: "image";
  job_id: string;
  url: string;
  width: number;
  height: number;
}

/** One alternative of a reply. A user message has exactly one. */
export interface Swipe {
  content: string;
  created_at: string;
}

/** The roles `chat_history` stores. */
export type MessageRole = "user" | "assistant";

/** How a reply ended: `cancelled` or `failed` keep what was streamed (`chat_history.status`). */
export type MessageStatus = "complete" | "cancelled" | "failed";

/**
 * A chat message as this API keeps it, independent of any table or file format.
 * Invariant: `content === swipes[swipe_index].content`; `swipes` is never empty.
 */
export interface ConversationMessage {
  id: string;
  role: MessageRole;
  /** The selected alternative, as edited: what the model and the user see. */
  content: string;
  swipes: Swipe[];
  swipe_index: number;
  created_at: string;
  edited_at: string | null;
  attachments: ImageAttachment[];
  status: MessageStatus;
}

/** A new message with one alternative. */
export function newMessage(
  id: string,
  role: MessageRole,
  content: string,
  now: string,
  attachments: ImageAttachment[] = [],
): ConversationMessage {
  return {
    id,
    role,
    content,
    swipes: [{ content, created_at: now }],
    swipe_index: 0,
    created_at: now,
    edited_at: null,
    attachments,
    status: "complete",
  };
}
