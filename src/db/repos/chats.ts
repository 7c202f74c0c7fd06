import { type SQL, sql } from "drizzle-orm";
import type { Cursor } from "../../lib/cursor";
import type { Chat, Message } from "../models";
import type { ChatRow } from "../schema/rows";
import type { SqlClient } from "../sql-client";

const CHAT_COLUMNS = sql.raw("id, character_id, title, created_at, last_message_at");
/** A chat row as CHAT_COLUMNS selects it: the API's `Chat` (the owner stays in the database). */
type ChatListRow = Omit<ChatRow, "user_id">;
/** A row of the chat list: the chat and the start of its last message (null: none yet). */
export type ChatListItem = Chat & { last_message_preview: string | null };
const MESSAGE_COLUMNS = sql.raw("id, chat_id, role, content, status, created_at");
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
  async create(chat: Chat & { user_id: string }, greeting: Message | null): Promise<Chat> {
    await this.db.batch([
      sql`INSERT INTO chats (id, user_id, character_id, title, created_at, last_message_at)
          VALUES (${chat.id}, ${chat.user_id}, ${chat.character_id}, ${chat.title}, ${chat.created_at}, ${chat.last_message_at})`,
      ...(greeting ? [this.insertMessage(greeting, chat.user_id)] : []),
    ]);
    const { user_id: _owner, ...publicChat } = chat;
    return publicChat;
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
  async addMessage(message: Message, userId: string): Promise<Message> {
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
    return message;
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
    return this.db.all<Message>(
      sql`SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = ${chatId} ${older}
          ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
    );
  }

  async message(chatId: string, id: string): Promise<Message | null> {
    const rows = await this.db.all<Message>(
      sql`SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = ${chatId} AND id = ${id}`,
    );
    return rows[0] ?? null;
  }

  private insertMessage(m: Message, userId: string) {
    return sql`INSERT INTO chat_history (id, chat_id, user_id, role, content, status, created_at)
               VALUES (${m.id}, ${m.chat_id}, ${userId}, ${m.role}, ${m.content}, ${m.status}, ${m.created_at})`;
  }
}
