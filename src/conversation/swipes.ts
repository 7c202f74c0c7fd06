import { ApiError } from "../errors/api-error";
import type { ConversationMessage } from "./message";

/** The contract's ceiling on alternatives of one reply. */
export const MAX_SWIPES = 20;

function selecting(message: ConversationMessage, index: number): ConversationMessage {
  const swipe = message.swipes[index];
  if (!swipe) {
    throw ApiError.invalid(`index must be between 0 and ${message.swipes.length - 1}.`);
  }
  return { ...message, swipe_index: index, content: swipe.content };
}

function withSelected(message: ConversationMessage, content: string): ConversationMessage {
  const swipes = message.swipes.map((swipe, i) =>
    i === message.swipe_index ? { ...swipe, content } : swipe,
  );
  return { ...message, swipes, content };
}

/**
 * The last assistant message, the only one `chat.regenerate`, `chat.continue` and `chat.swipe`
 * act on (as in SillyTavern). `messageId`, when given, must be it.
 *
 * @throws {ApiError} invalid_request when the chat has none or `messageId` names another.
 */
export function lastAssistant(
  messages: readonly ConversationMessage[],
  messageId?: string,
): ConversationMessage {
  const last = messages.at(-1);
  if (last?.role !== "assistant") {
    throw ApiError.invalid("The chat does not end with a reply of the character.");
  }
  if (messageId !== undefined && last.id !== messageId) {
    throw ApiError.invalid("Only the last reply can be regenerated, continued or swiped.");
  }
  return last;
}

/**
 * Adds a new alternative and selects it (`chat.regenerate`). Streaming starts it empty and
 * grows it with `continueReply`.
 *
 * @throws {ApiError} invalid_request for a user message or at `MAX_SWIPES` alternatives.
 * @example
 * let reply = regenerate(last, "", now); // then continueReply(reply, delta) per delta
 */
export function regenerate(message: ConversationMessage, content: string, now: string): ConversationMessage {
  if (message.role !== "assistant") {
    throw ApiError.invalid("Only a reply of the character can be regenerated.");
  }
  if (message.swipes.length >= MAX_SWIPES) {
    throw ApiError.invalid(`A reply has at most ${MAX_SWIPES} alternatives.`);
  }
  const swipes = [...message.swipes, { content, created_at: now }];
  return { ...message, swipes, swipe_index: swipes.length - 1, content };
}

/**
 * Selects alternative `index` (`chat.swipe`).
 *
 * @throws {ApiError} invalid_request when `index` is not an integer in range.
 */
export function swipe(message: ConversationMessage, index: number): ConversationMessage {
  if (!Number.isInteger(index)) {
    throw ApiError.invalid("index must be an integer.");
  }
  return selecting(message, index);
}

/** Extends the selected alternative (`chat.continue`, and each delta of a stream). */
export function continueReply(message: ConversationMessage, more: string): ConversationMessage {
  return withSelected(message, message.content + more);
}

/** Replaces the selected alternative's text (`PATCH .../messages/:id`) and stamps `edited_at`. */
export function editMessage(message: ConversationMessage, content: string, now: string): ConversationMessage {
  return { ...withSelected(message, content), edited_at: now };
}

/**
 * The ids `DELETE .../messages/:id` removes: that message and every later one.
 *
 * @param messages The chat, oldest first.
 * @throws {ApiError} not_found when no message has that id.
 */
export function idsFrom(messages: readonly ConversationMessage[], messageId: string): string[] {
  const at = messages.findIndex((message) => message.id === messageId);
  if (at < 0) {
    throw ApiError.notFound("message");
  }
  return messages.slice(at).map((message) => message.id);
}

/** `GET .../swipes` items. */
export function swipeItems(
  message: ConversationMessage,
): { index: number; content: string; created_at: string }[] {
  return message.swipes.map((s, index) => ({ index, content: s.content, created_at: s.created_at }));
}

/** What the model is sent for a message: the selected alternative as edited, nothing else. */
export function historyOf(
  messages: readonly ConversationMessage[],
): { role: ConversationMessage["role"]; content: string }[] {
  return messages.map(({ role, content }) => ({ role, content }));
}
