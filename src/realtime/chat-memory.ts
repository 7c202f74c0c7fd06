import type { TurnContext } from "./chat-context";
import type { HistoryMessage } from "./prompt-builder";

interface Entry {
  context: TurnContext;
  loadedAt: number;
}

/**
 * What a user's session remembers between turns of a chat: that the chat is the user's,
 * its character, the user's name and recent history. The session writes every message of
 * its user's chats, so it keeps the history current by appending what it stores; the
 * database stays the truth and is read again after `ttlMs` (picking up character edits),
 * after a restart or hibernation, and for chats pushed out of the `maxChats` most recent.
 * This takes a warm turn from about six D1 queries down to the two writes.
 *
 * @example
 * const context = memory.get(chatId, now) ?? memory.set(chatId, await loadTurnContext(...), now);
 */
export class ChatMemory {
  private readonly chats = new Map<string, Entry>();

  constructor(
    private readonly maxChats = 16,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  get(chatId: string, now: number): TurnContext | null {
    const entry = this.chats.get(chatId);
    if (!entry) return null;
    this.chats.delete(chatId);
    if (now - entry.loadedAt > this.ttlMs) return null;
    this.chats.set(chatId, entry);
    return entry.context;
  }

  set(chatId: string, context: TurnContext, now: number): TurnContext {
    this.chats.delete(chatId);
    this.chats.set(chatId, { context, loadedAt: now });
    for (const oldest of this.chats.keys()) {
      if (this.chats.size <= this.maxChats) break;
      this.chats.delete(oldest);
    }
    return context;
  }

  /** Records a stored message; drops the oldest ones beyond `keepChars` of text. */
  append(chatId: string, message: HistoryMessage, keepChars: number): void {
    const history = this.chats.get(chatId)?.context.history;
    if (!history) return;
    history.push(message);
    let chars = 0;
    for (let i = history.length - 1; i >= 0; i--) {
      chars += history[i]?.content.length ?? 0;
      if (chars > keepChars) {
        history.splice(0, i);
        break;
      }
    }
  }

  forget(chatId: string): void {
    this.chats.delete(chatId);
  }
}
