import { type SQL, sql } from "drizzle-orm";
import type { Cursor } from "../../lib/cursor";
import type { Chat, FullMessage, Message, MessageAttachment, NewMessage, StoredSwipe } from "../models";
import type { ChatHistoryRow, ChatRow } from "../schema/rows";
import type { SqlClient } from "../sql-client";

const CHAT_COLUMNS = sql.raw(
  "id, character_id, title, created_at, last_message_at, summary, summary_through",
);
/** A chat row as CHAT_COLUMNS selects it: the API's `Chat` (the owner stays in the database). */
type ChatListRow = Omit<ChatRow, "user_id">;
const MESSAGE_COLUMNS = sql.raw(
  "id, chat_id, role, content, status, created_at, swipes, swipe_index, edited_at, attachments",
);
type MessageRow = Omit<ChatHistoryRow, "user_id">;

function parseJsonArray<T>(text: string | null | undefined): T[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as T[]) : [];
  } catch {
    return [];
  }
}

/** A stored row with every alternative; `swipes = []` (rows that predate swipes) is just `content`. */
function fullMessageOf(row: MessageRow): FullMessage {
  const stored = parseJsonArray<StoredSwipe>(row.swipes);
  const swipes = stored.length > 0 ? stored : [{ content: row.content, created_at: row.created_at }];
  const swipe_index = Math.min(Math.max(0, Number(row.swipe_index) || 0), swipes.length - 1);
  return {
    id: row.id,
    chat_id: row.chat_id,
    role: row.role as Message["role"],
    content: row.content,
    status: row.status as Message["status"],
    created_at: row.created_at,
    swipe_index,
    swipe_count: swipes.length,
    edited_at: row.edited_at ?? null,
    attachments: parseJsonArray<MessageAttachment>(row.attachments),
    swipes,
  };
}

/** The public shape: the alternatives stay behind `GET .../swipes`. */
export function publicMessage(message: FullMessage): Message {
  const { swipes: _swipes, ...rest } = message;
  return rest;
}

/** The stored form of a new message (defaults: one alternative, unedited, no attachment). */
export function completeMessage(message: NewMessage): FullMessage {
  const swipes =
    message.swipes && message.swipes.length > 0
      ? message.swipes
      : [{ content: message.content, created_at: message.created_at }];
  const { swipes: _given, ...rest } = message;
  return {
    ...rest,
    swipe_index: message.swipe_index ?? swipes.length - 1,
    swipe_count: swipes.length,
    edited_at: message.edited_at ?? null,
    attachments: message.attachments ?? [],
    swipes,
  };
}

/** A row of the chat list: the chat and the start of its last message (null: none yet). */
export type ChatListItem = Chat & { last_message_preview: string | null };
/** Characters of the last message a chat list row shows. */
export const PREVIEW_CHARS = 120;
/**
 * The newest message with text, cut to PREVIEW_CHARS: one index probe per listed chat
 * (chat_history_chat_created_idx), so the list stays one query and no column must be kept
 * in step with every stored, edited or deleted message.
 */
const LAST_MESSAGE_PREVIEW = sql.raw(
  `(SELECT substr(h.content, 1, ${PREVIEW_CHARS}) FROM chat_history h WHERE h.chat_id = chats.id AND h.content <> '' ORDER BY h.created_at DESC, h.id DESC LIMIT 1) AS last_message_preview`,
);

/** Whether the chat (an SQL expression for its id) holds a message the user wrote. */
export function hasUserMessage(chatId: SQL): SQL {
  return sql`EXISTS (SELECT 1 FROM chat_history h WHERE h.chat_id = ${chatId} AND h.role = 'user')`;
}

export class ChatsRepo {
  constructor(private readonly db: SqlClient) {}

  /**
   * Creates the chat and stores the greeting as its first message. It is not counted for
   * "popular" yet: `chat_count` counts chats with a user message (`addMessage` counts it).
   */
  async create(
    chat: Omit<Chat, "summary" | "summary_through"> &
      Partial<Pick<Chat, "summary" | "summary_through">> & { user_id: string },
    greeting: NewMessage | null,
  ): Promise<Chat> {
    await this.db.batch([
      sql`INSERT INTO chats (id, user_id, character_id, title, created_at, last_message_at)
          VALUES (${chat.id}, ${chat.user_id}, ${chat.character_id}, ${chat.title}, ${chat.created_at}, ${chat.last_message_at})`,
      ...(greeting ? [this.insertMessage(greeting, chat.user_id)] : []),
    ]);
    const { user_id: _owner, ...publicChat } = chat;
    return { ...publicChat, summary: null, summary_through: null };
  }

  /**
   * Creates a chat with all its messages at once (a SillyTavern file import), counted for
   * "popular" like any chat with a user message (a file of greetings only is not).
   */
  async importChat(chat: Chat & { user_id: string }, messages: NewMessage[]): Promise<Chat> {
    const statements = [
      sql`INSERT INTO chats (id, user_id, character_id, title, created_at, last_message_at, summary, summary_through)
          VALUES (${chat.id}, ${chat.user_id}, ${chat.character_id}, ${chat.title}, ${chat.created_at},
                  ${chat.last_message_at}, ${chat.summary}, ${chat.summary_through})`,
      ...messages.map((m) => this.insertMessage(m, chat.user_id)),
      ...(messages.some((m) => m.role === "user")
        ? [sql`UPDATE characters SET chat_count = chat_count + 1 WHERE id = ${chat.character_id}`]
        : []),
    ];
    // D1 batches are bounded; a 10 000-message file goes in slices (the chat row first).
    for (let i = 0; i < statements.length; i += 500) {
      await this.db.batch(statements.slice(i, i + 500));
    }
    const { user_id: _owner, ...publicChat } = chat;
    return publicChat;
  }

  /** Changes the title and/or summary (`summary_through` moves with a folded summary). */
  async update(
    id: string,
    userId: string,
    patch: { title?: string; summary?: string | null; summary_through?: string | null },
  ): Promise<Chat | null> {
    const sets = [];
    if (patch.title !== undefined) sets.push(sql`title = ${patch.title}`);
    if (patch.summary !== undefined) sets.push(sql`summary = ${patch.summary}`);
    if (patch.summary_through !== undefined) sets.push(sql`summary_through = ${patch.summary_through}`);
    if (sets.length > 0) {
      await this.db.run(
        sql`UPDATE chats SET ${sql.join(sets, sql`, `)} WHERE id = ${id} AND user_id = ${userId}`,
      );
    }
    return this.get(id, userId);
  }

  async list(userId: string, limit: number, cursor?: Cursor): Promise<ChatListItem[]> {
    const after = cursor
      ? sql`AND (last_message_at < ${cursor.sort} OR (last_message_at = ${cursor.sort} AND id < ${cursor.id}))`
      : sql``;
    return this.db.all<ChatListItem>(
      sql`SELECT ${CHAT_COLUMNS}, ${LAST_MESSAGE_PREVIEW} FROM chats WHERE user_id = ${userId} ${after}
          ORDER BY last_message_at DESC, id DESC LIMIT ${limit + 1}`,
    );
  }

  /** How many chats the user has (MAX_CHATS_PER_USER). */
  async countOwned(userId: string): Promise<number> {
    const rows = await this.db.all<{ n: number | string }>(
      sql`SELECT CAST(COUNT(*) AS INTEGER) AS n FROM chats WHERE user_id = ${userId}`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The user's chat; null when absent or someone else's. */
  async get(id: string, userId: string): Promise<Chat | null> {
    const rows = await this.db.all<ChatListRow>(
      sql`SELECT ${CHAT_COLUMNS} FROM chats WHERE id = ${id} AND user_id = ${userId}`,
    );
    return rows[0] ?? null;
  }

  /** Deletes the chat and its messages; a chat that counted for "popular" stops counting. */
  async delete(id: string, userId: string): Promise<boolean> {
    if (!(await this.get(id, userId))) return false;
    await this.db.batch([
      sql`UPDATE characters SET chat_count = chat_count - 1
          WHERE id = (SELECT character_id FROM chats WHERE id = ${id} AND user_id = ${userId})
            AND chat_count > 0 AND ${hasUserMessage(sql`${id}`)}`,
      sql`DELETE FROM chat_history WHERE chat_id = ${id} AND user_id = ${userId}`,
      sql`DELETE FROM chats WHERE id = ${id} AND user_id = ${userId}`,
    ]);
    return true;
  }

  /**
   * Stores a message and moves the chat to the top of the user's list. The chat's first user
   * message counts the chat for "popular" (`chat_count`), in the same batch, before the insert.
   */
  async addMessage(message: NewMessage, userId: string): Promise<Message> {
    await this.db.batch([
      ...(message.role === "user"
        ? [
            sql`UPDATE characters SET chat_count = chat_count + 1
                WHERE id = (SELECT character_id FROM chats WHERE id = ${message.chat_id} AND user_id = ${userId})
                  AND NOT ${hasUserMessage(sql`${message.chat_id}`)}`,
          ]
        : []),
      this.insertMessage(message, userId),
      sql`UPDATE chats SET last_message_at = ${message.created_at} WHERE id = ${message.chat_id} AND user_id = ${userId}`,
    ]);
    return publicMessage(completeMessage(message));
  }

  /**
   * Writes a message's alternatives, selection, text, status, edit time and attachments
   * (regenerate, continue, swipe, edit). False when it is not the user's.
   */
  async saveMessage(message: FullMessage, userId: string): Promise<boolean> {
    const changed = await this.db.run(
      sql`UPDATE chat_history SET content = ${message.content}, swipes = ${JSON.stringify(message.swipes)},
            swipe_index = ${message.swipe_index}, status = ${message.status}, edited_at = ${message.edited_at},
            attachments = ${JSON.stringify(message.attachments)}
          WHERE chat_id = ${message.chat_id} AND id = ${message.id} AND user_id = ${userId}`,
    );
    return changed > 0;
  }

  /** Deletes `from` and every later message of the chat; resolves to the ids deleted, oldest first. */
  async deleteFrom(
    chatId: string,
    userId: string,
    from: { id: string; created_at: string },
  ): Promise<string[]> {
    const later = sql`chat_id = ${chatId} AND user_id = ${userId}
      AND (created_at > ${from.created_at} OR (created_at = ${from.created_at} AND id >= ${from.id}))`;
    const rows = await this.db.all<{ id: string }>(
      sql`SELECT id FROM chat_history WHERE ${later} ORDER BY created_at, id`,
    );
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.id);
    // A summary that reached into the deleted turns keeps its text; `summary_through` forgets them.
    await this.db.batch([
      // Deleting the chat's last user message uncounts it for "popular" (API.md: `chat_count`
      // counts chats with a user message), before the rows go; unqualified columns in `later`
      // name the inner chat_history row.
      sql`UPDATE characters SET chat_count = chat_count - 1
          WHERE id = (SELECT character_id FROM chats WHERE id = ${chatId} AND user_id = ${userId})
            AND chat_count > 0 AND ${hasUserMessage(sql`${chatId}`)}
            AND NOT EXISTS (SELECT 1 FROM chat_history WHERE role = 'user' AND chat_id = ${chatId} AND NOT (${later}))`,
      sql`DELETE FROM chat_history WHERE ${later}`,
      sql`UPDATE chats SET summary_through = NULL
          WHERE id = ${chatId} AND user_id = ${userId} AND summary_through IN (${sql.join(
            ids.map((id) => sql`${id}`),
            sql`, `,
          )})`,
    ]);
    return ids;
  }

  /** One message with its alternatives. */
  async fullMessage(chatId: string, id: string): Promise<FullMessage | null> {
    const rows = await this.db.all<MessageRow>(
      sql`SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = ${chatId} AND id = ${id}`,
    );
    return rows[0] ? fullMessageOf(rows[0]) : null;
  }

  /** Every message with its alternatives, oldest first (export; at most `limit`). */
  async fullMessages(chatId: string, limit = 10_000): Promise<FullMessage[]> {
    const rows = await this.db.all<MessageRow>(
      sql`SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = ${chatId}
          ORDER BY created_at, id LIMIT ${limit}`,
    );
    return rows.map(fullMessageOf);
  }

  /** The newest message with its alternatives (what regenerate, continue and swipe act on). */
  async lastMessage(chatId: string): Promise<FullMessage | null> {
    const rows = await this.db.all<MessageRow>(
      sql`SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = ${chatId}
          ORDER BY created_at DESC, id DESC LIMIT 1`,
    );
    return rows[0] ? fullMessageOf(rows[0]) : null;
  }

  /** Newest first; `before` is the message the previous page ended on. */
  async messages(
    chatId: string,
    limit: number,
    before?: { id: string; created_at: string },
  ): Promise<Message[]> {
    const older = before
      ? sql`AND (created_at < ${before.created_at} OR (created_at = ${before.created_at} AND id < ${before.id}))`
      : sql``;
    const rows = await this.db.all<MessageRow>(
      sql`SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = ${chatId} ${older}
          ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
    );
    return rows.map((row) => publicMessage(fullMessageOf(row)));
  }

  /**
   * The first page of `messages` of the user's chat, with the ownership check in the same
   * query (one round trip where `get` then `messages` take two). Null when the chat is not
   * the user's (or absent); an empty array for a chat without messages.
   */
  async ownedMessages(chatId: string, userId: string, limit: number): Promise<Message[] | null> {
    const rows = await this.db.all<{ owned_chat: string } & Partial<MessageRow>>(
      sql`SELECT c.id AS owned_chat, h.* FROM chats c
          LEFT JOIN (SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = ${chatId}
                     ORDER BY created_at DESC, id DESC LIMIT ${limit}) h ON 1 = 1
          WHERE c.id = ${chatId} AND c.user_id = ${userId}
          ORDER BY h.created_at DESC, h.id DESC`,
    );
    if (rows.length === 0) return null;
    return rows
      .filter((row): row is { owned_chat: string } & MessageRow => typeof row.id === "string")
      .map(({ owned_chat: _chat, ...row }) => publicMessage(fullMessageOf(row)));
  }

  async message(chatId: string, id: string): Promise<Message | null> {
    const full = await this.fullMessage(chatId, id);
    return full ? publicMessage(full) : null;
  }

  /**
   * Stores a message only while the user's chat exists (a picture that finished after its chat
   * was deleted leaves no orphan row) and moves the chat up the list. Null when there is no chat.
   */
  async addMessageIfChatExists(message: NewMessage, userId: string): Promise<Message | null> {
    const m = completeMessage(message);
    const inserted = await this.db.run(
      sql`INSERT INTO chat_history (id, chat_id, user_id, role, content, status, created_at, swipes, swipe_index, edited_at, attachments)
          SELECT ${m.id}, ${m.chat_id}, ${userId}, ${m.role}, ${m.content}, ${m.status}, ${m.created_at},
                 ${JSON.stringify(m.swipes)}, CAST(${m.swipe_index} AS INTEGER), ${m.edited_at}, ${JSON.stringify(m.attachments)}
          WHERE EXISTS (SELECT 1 FROM chats WHERE id = ${m.chat_id} AND user_id = ${userId})`,
    );
    if (inserted === 0) return null;
    await this.db.run(
      sql`UPDATE chats SET last_message_at = ${m.created_at} WHERE id = ${m.chat_id} AND user_id = ${userId}`,
    );
    return publicMessage(m);
  }

  private insertMessage(message: NewMessage, userId: string) {
    const m = completeMessage(message);
    return sql`INSERT INTO chat_history (id, chat_id, user_id, role, content, status, created_at, swipes, swipe_index, edited_at, attachments)
               VALUES (${m.id}, ${m.chat_id}, ${userId}, ${m.role}, ${m.content}, ${m.status}, ${m.created_at},
                       ${JSON.stringify(m.swipes)}, ${m.swipe_index}, ${m.edited_at}, ${JSON.stringify(m.attachments)})`;
  }
}
