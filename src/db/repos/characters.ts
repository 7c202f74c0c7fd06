import { type SQL, sql } from "drizzle-orm";
import type { Cursor } from "../../lib/cursor";
import type { Character, CharacterFields, User } from "../models";
import type { CharacterRow as CharacterRecord } from "../schema/rows";
import type { SqlClient } from "../sql-client";
import { type CharacterFresh, CharacterTextCache, composeCharacter } from "./character-text-cache";

/** A character row as COLUMNS selects it (the card's extras are read on their own). */
type CharacterRow = Omit<CharacterRecord, "card_extras">;

const COLUMNS = sql.raw(
  "id, owner_id, name, description, personality, scenario, greeting, system_prompt, example_dialogue, tags, avatar_url, is_public, appearance, character_book, chat_count, created_at, updated_at",
);

/** COLUMNS of the table aliased `c`, named as COLUMNS names them. */
const CHARACTER_COLUMNS_OF_C = sql.raw(
  "c.id, c.owner_id, c.name, c.description, c.personality, c.scenario, c.greeting, c.system_prompt, c.example_dialogue, c.tags, c.avatar_url, c.is_public, c.appearance, c.character_book, c.chat_count, c.created_at, c.updated_at",
);

/** The columns of a list page read every time; the text comes from `listTexts` when it is settled. */
const FRESH_COLUMNS = sql.raw("id, owner_id, is_public, chat_count, created_at, updated_at");
type FreshRow = Pick<
  CharacterRow,
  "id" | "owner_id" | "is_public" | "chat_count" | "created_at" | "updated_at"
>;

/** Per isolate, shared by every request (see CharacterTextCache). */
const listTexts = new CharacterTextCache();

function toCharacter(row: CharacterRow): Character {
  return {
    ...row,
    tags: JSON.parse(row.tags) as string[],
    is_public: Boolean(row.is_public),
    character_book: row.character_book ? (JSON.parse(row.character_book) as Record<string, unknown>) : null,
    chat_count: Number(row.chat_count),
  };
}

function freshOf(row: FreshRow): CharacterFresh {
  return { ...row, is_public: Boolean(row.is_public), chat_count: Number(row.chat_count) };
}

/** `%` and `_` in user text match themselves, not patterns. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

export interface ListCharactersQuery {
  viewerId: string | null;
  limit: number;
  cursor?: Cursor;
  tag?: string;
  q?: string;
}

export class CharactersRepo {
  constructor(private readonly db: SqlClient) {}

  /** One of the owner's characters with exactly this name and description (a card imported before). */
  async findOwnedCopy(
    ownerId: string,
    name: string,
    description: string,
  ): Promise<{ id: string; name: string } | null> {
    const rows = await this.db.all<{ id: string; name: string }>(
      sql`SELECT id, name FROM characters WHERE owner_id = ${ownerId} AND name = ${name} AND description = ${description}
          ORDER BY created_at LIMIT 1`,
    );
    return rows[0] ?? null;
  }

  /** Public characters plus the viewer's own, newest first. */
  async list(query: ListCharactersQuery): Promise<Character[]> {
    const where: SQL[] = [
      query.viewerId ? sql`(is_public = 1 OR owner_id = ${query.viewerId})` : sql`is_public = 1`,
    ];
    // Tags are indexed lower-case (tagRows), so every spelling of a tag filters alike.
    if (query.tag)
      where.push(sql`id IN (SELECT character_id FROM character_tags WHERE tag = ${query.tag.toLowerCase()})`);
    if (query.q) {
      const pattern = likePattern(query.q);
      where.push(
        sql`(lower(name) LIKE ${pattern} ESCAPE '\\' OR lower(description) LIKE ${pattern} ESCAPE '\\')`,
      );
    }
    if (query.cursor) {
      where.push(
        sql`(created_at < ${query.cursor.sort} OR (created_at = ${query.cursor.sort} AND id < ${query.cursor.id}))`,
      );
    }
    const filter = sql`FROM characters WHERE ${sql.join(where, sql` AND `)} ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`;
    // The page's small columns; the text of each character from this isolate's copy when it
    // has one for that `updated_at`, else from one more query for just those characters.
    const fresh = (await this.db.all<FreshRow>(sql`SELECT ${FRESH_COLUMNS} ${filter}`)).map(freshOf);
    const backend = this.db.dialect;
    const texts = new Map(fresh.map((row) => [row.id, listTexts.get(backend, row)]));
    const missing = fresh.filter((row) => !texts.get(row.id)).map((row) => row.id);
    const full = new Map<string, Character>();
    if (missing.length > 0) {
      const rows = await this.db.all<CharacterRow>(
        sql`SELECT ${COLUMNS} FROM characters WHERE id IN (${sql.join(
          missing.map((id) => sql`${id}`),
          sql`, `,
        )})`,
      );
      for (const row of rows) full.set(row.id, toCharacter(row));
      // A character deleted or edited between the two reads: read the page again as one query.
      const moved = fresh.some(
        (row) => missing.includes(row.id) && full.get(row.id)?.updated_at !== row.updated_at,
      );
      if (moved) return (await this.db.all<CharacterRow>(sql`SELECT ${COLUMNS} ${filter}`)).map(toCharacter);
      for (const character of full.values()) listTexts.remember(backend, character);
    }
    return fresh.map((row) => {
      const text = texts.get(row.id);
      return text ? composeCharacter(row, text) : (full.get(row.id) as Character);
    });
  }

  async popular(limit: number): Promise<Character[]> {
    const rows = await this.db.all<CharacterRow>(
      sql`SELECT ${COLUMNS} FROM characters WHERE is_public = 1 ORDER BY chat_count DESC, id DESC LIMIT ${limit}`,
    );
    return rows.map(toCharacter);
  }

  /** A character the viewer may see (public, or their own); null otherwise. */
  async get(id: string, viewerId: string | null): Promise<Character | null> {
    const visible = viewerId ? sql`(is_public = 1 OR owner_id = ${viewerId})` : sql`is_public = 1`;
    const rows = await this.db.all<CharacterRow>(
      sql`SELECT ${COLUMNS} FROM characters WHERE id = ${id} AND ${visible}`,
    );
    return rows[0] ? toCharacter(rows[0]) : null;
  }

  /**
   * The character of the user's chat, in one query that needs no answer from another (so it
   * runs alongside the chat's own read); null when the chat is not the user's or the
   * character is no longer visible to them.
   */
  async ofChat(chatId: string, userId: string): Promise<Character | null> {
    const rows = await this.db.all<CharacterRow>(
      sql`SELECT ${COLUMNS} FROM characters
          WHERE id = (SELECT character_id FROM chats WHERE id = ${chatId} AND user_id = ${userId})
            AND (is_public = 1 OR owner_id = ${userId})`,
    );
    return rows[0] ? toCharacter(rows[0]) : null;
  }

  /**
   * What starting a chat needs, in one query: the character as `get` reads it for the user,
   * the user as `UsersRepo.get` reads them, and how many chats they own (`ChatsRepo.countOwned`).
   */
  async chatStart(
    characterId: string,
    userId: string,
  ): Promise<{ character: Character | null; user: User | null; chatsOwned: number }> {
    const rows = await this.db.all<
      Record<keyof CharacterRow, unknown> & {
        user_id: string | null;
        user_display_name: string | null;
        user_created_at: string | null;
        chats_owned: number | string;
      }
    >(
      sql`SELECT u.id AS user_id, u.display_name AS user_display_name, u.created_at AS user_created_at,
            (SELECT CAST(COUNT(*) AS INTEGER) FROM chats WHERE user_id = ${userId}) AS chats_owned,
            ${CHARACTER_COLUMNS_OF_C}
          FROM (SELECT 1 AS one) one
          LEFT JOIN users u ON u.id = ${userId}
          LEFT JOIN characters c ON c.id = ${characterId} AND (c.is_public = 1 OR c.owner_id = ${userId})`,
    );
    const row = rows[0];
    if (!row) return { character: null, user: null, chatsOwned: 0 };
    const { user_id, user_display_name, user_created_at, chats_owned, ...character } = row;
    return {
      character: typeof character.id === "string" ? toCharacter(character as CharacterRow) : null,
      user:
        typeof user_id === "string"
          ? { id: user_id, display_name: user_display_name ?? "", created_at: user_created_at ?? "" }
          : null,
      chatsOwned: Number(chats_owned ?? 0),
    };
  }

  /** The card fields kept at import (null for characters made by hand). */
  async cardExtras(id: string): Promise<Record<string, unknown> | null> {
    const rows = await this.db.all<Pick<CharacterRecord, "card_extras">>(
      sql`SELECT card_extras FROM characters WHERE id = ${id}`,
    );
    const raw = rows[0]?.card_extras;
    return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
  }

  /** How many characters the user owns (MAX_CHARACTERS_PER_USER). */
  async countOwned(ownerId: string): Promise<number> {
    const rows = await this.db.all<{ n: number | string }>(
      sql`SELECT CAST(COUNT(*) AS INTEGER) AS n FROM characters WHERE owner_id = ${ownerId}`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Appearance and lorebook default to none (seeds and older callers leave them out). */
  async create(
    character: Omit<Character, "chat_count" | "updated_at" | "appearance" | "character_book"> &
      Partial<Pick<Character, "appearance" | "character_book">>,
    cardExtras: Record<string, unknown> | null = null,
  ): Promise<Character> {
    const c = {
      ...character,
      appearance: character.appearance ?? "",
      character_book: character.character_book ?? null,
    };
    await this.db.batch([
      sql`INSERT INTO characters (id, owner_id, name, description, personality, scenario, greeting, system_prompt, example_dialogue, tags, card_extras, avatar_url, is_public, appearance, character_book, chat_count, created_at, updated_at)
          VALUES (${c.id}, ${c.owner_id}, ${c.name}, ${c.description}, ${c.personality}, ${c.scenario}, ${c.greeting}, ${c.system_prompt}, ${c.example_dialogue}, ${JSON.stringify(c.tags)}, ${cardExtras ? JSON.stringify(cardExtras) : null}, ${c.avatar_url}, ${c.is_public ? 1 : 0}, ${c.appearance}, ${c.character_book ? JSON.stringify(c.character_book) : null}, 0, ${c.created_at}, ${c.created_at})`,
      ...this.tagRows(c.id, c.tags),
    ]);
    return { ...c, chat_count: 0, updated_at: c.created_at };
  }

  /** Applies a patch to the owner's character; null when it is not theirs (or absent). */
  async update(
    id: string,
    ownerId: string,
    patch: Partial<CharacterFields>,
    now: string,
  ): Promise<Character | null> {
    const sets: SQL[] = [sql`updated_at = ${now}`];
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      const column = sql.identifier(key);
      if (key === "tags") sets.push(sql`tags = ${JSON.stringify(value)}`);
      else if (key === "is_public") sets.push(sql`is_public = ${value ? 1 : 0}`);
      else if (key === "character_book")
        sets.push(sql`character_book = ${value ? JSON.stringify(value) : null}`);
      else sets.push(sql`${column} = ${value as string | null}`);
    }
    const owned = sql`id = ${id} AND owner_id = ${ownerId}`;
    const statements = [sql`UPDATE characters SET ${sql.join(sets, sql`, `)} WHERE ${owned}`];
    if (patch.tags) {
      statements.push(
        sql`DELETE FROM character_tags WHERE character_id IN (SELECT id FROM characters WHERE ${owned})`,
        ...this.tagRows(id, patch.tags),
      );
    }
    if (!(await this.isOwnedBy(id, ownerId))) return null;
    await this.db.batch(statements);
    return this.get(id, ownerId);
  }

  async delete(id: string, ownerId: string): Promise<boolean> {
    if (!(await this.isOwnedBy(id, ownerId))) return false;
    await this.db.batch([
      sql`DELETE FROM character_tags WHERE character_id = ${id}`,
      sql`DELETE FROM characters WHERE id = ${id} AND owner_id = ${ownerId}`,
    ]);
    return true;
  }

  /** The avatar URLs of the owner's characters (all, or just `id`), for deleting stored portraits. */
  async avatarsOf(ownerId: string, id?: string): Promise<{ id: string; avatar_url: string }[]> {
    const only = id === undefined ? sql`` : sql`AND id = ${id}`;
    return this.db.all<{ id: string; avatar_url: string }>(
      sql`SELECT id, avatar_url FROM characters WHERE owner_id = ${ownerId} AND avatar_url IS NOT NULL ${only}`,
    );
  }

  async incrementChatCount(id: string): Promise<void> {
    await this.db.run(sql`UPDATE characters SET chat_count = chat_count + 1 WHERE id = ${id}`);
  }

  private async isOwnedBy(id: string, ownerId: string): Promise<boolean> {
    const rows = await this.db.all<{ id: string }>(
      sql`SELECT id FROM characters WHERE id = ${id} AND owner_id = ${ownerId}`,
    );
    return rows.length > 0;
  }

  private tagRows(characterId: string, tags: string[]): SQL[] {
    return [...new Set(tags.map((tag) => tag.toLowerCase()))].map(
      (tag) =>
        sql`INSERT INTO character_tags (tag, character_id) VALUES (${tag}, ${characterId}) ON CONFLICT DO NOTHING`,
    );
  }
}
