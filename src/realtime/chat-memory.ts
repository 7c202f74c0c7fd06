import type { TurnContext } from "./chat-context";
import type { HistoryMessage } from "./prompt-builder";

interface Entry {
  context: TurnContext;
  loadedAt: number;
}

/** The part of a SQLite-backed Durable Object's synchronous KV (`ctx.storage.kv`) the memory uses. */
export interface ChatMemoryStore {
  get<T>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
}

const KEY_PREFIX = "turn-context:";
/** The ids of the chats kept in storage, most recently loaded first (bounds what is kept). */
const INDEX_KEY = "turn-context-index";

/**
 * What a user's session remembers between turns of a chat: its character card, lorebook,
 * the user's name and recent history. The session writes every message of its user's chats,
 * so it keeps the history current by appending what it stores; REST edits tell it to forget
 * (`chatChanged`), and a turn checks what it cannot see being written (the character's
 * version, the newest message id; `turn-stamp.ts`) before using a kept context.
 *
 * Two tiers: a map in memory, lost on hibernation, and (given a store) the session's own
 * SQLite storage, which survives hibernation and eviction and is local: a woken session reads
 * its context there instead of from the database. The database stays the truth: a context is
 * read from it again after `ttlMs`, for chats pushed out of the `maxChats` most recent, and
 * whenever the stamp does not match.
 *
 * @example
 * const memory = new ChatMemory(ctx.storage.kv);
 * const context = memory.get(chatId, now) ?? memory.set(chatId, await loadTurnContext(...), now);
 */
export class ChatMemory {
  private readonly chats = new Map<string, Entry>();

  constructor(
    private readonly store?: ChatMemoryStore,
    private readonly maxChats = 16,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  get(chatId: string, now: number): TurnContext | null {
    let entry = this.chats.get(chatId);
    this.chats.delete(chatId);
    entry ??= this.store?.get<Entry>(KEY_PREFIX + chatId);
    if (!entry) return null;
    if (now - entry.loadedAt > this.ttlMs) {
      this.store?.delete(KEY_PREFIX + chatId);
      return null;
    }
    this.remember(chatId, entry);
    return entry.context;
  }

  set(chatId: string, context: TurnContext, now: number): TurnContext {
    const entry = { context, loadedAt: now };
    this.remember(chatId, entry);
    if (this.store && this.keep(chatId, entry)) {
      const index = [chatId, ...(this.store.get<string[]>(INDEX_KEY) ?? []).filter((id) => id !== chatId)];
      for (const evicted of index.splice(this.maxChats)) this.store.delete(KEY_PREFIX + evicted);
      this.store.put(INDEX_KEY, index);
    }
    return context;
  }

  /**
   * Records a stored message in memory; drops the oldest ones beyond `keepChars` of text.
   * `save` writes the chat to storage (once per turn: after the reply).
   */
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

  /**
   * Writes what memory holds of the chat to storage. A turn that ends without saving leaves
   * storage one message behind: the next turn's stamp sees a newer message and reloads.
   */
  save(chatId: string): void {
    const entry = this.chats.get(chatId);
    if (entry) this.keep(chatId, entry);
  }

  forget(chatId: string): void {
    this.chats.delete(chatId);
    this.store?.delete(KEY_PREFIX + chatId);
  }

  /** Everything, memory and storage (the user was deleted: none of their chats may stay). */
  forgetAll(): void {
    this.chats.clear();
    if (!this.store) return;
    for (const id of this.store.get<string[]>(INDEX_KEY) ?? []) this.store.delete(KEY_PREFIX + id);
    this.store.delete(INDEX_KEY);
  }

  /**
   * Writes the chat to storage. A write that fails (a value over the storage's size limit: a
   * huge card) must not fail the turn: the chat is then not kept, and read from the database.
   */
  private keep(chatId: string, entry: Entry): boolean {
    if (!this.store) return false;
    try {
      this.store.put(KEY_PREFIX + chatId, entry);
      return true;
    } catch {
      this.store.delete(KEY_PREFIX + chatId);
      return false;
    }
  }

  private remember(chatId: string, entry: Entry): void {
    this.chats.delete(chatId);
    this.chats.set(chatId, entry);
    for (const oldest of this.chats.keys()) {
      if (this.chats.size <= this.maxChats) break;
      this.chats.delete(oldest);
    }
  }
}
