import { sql } from "drizzle-orm";
import type { User } from "../models";
import type { UserRow } from "../schema/rows";
import type { SqlClient } from "../sql-client";
import { hasUserMessage } from "./chats";

export class UsersRepo {
  constructor(private readonly db: SqlClient) {}

  async create(user: User): Promise<User> {
    await this.db.run(
      sql`INSERT INTO users (id, display_name, created_at) VALUES (${user.id}, ${user.display_name}, ${user.created_at})`,
    );
    return user;
  }

  async get(id: string): Promise<User | null> {
    const rows = await this.db.all<UserRow>(
      sql`SELECT id, display_name, created_at FROM users WHERE id = ${id}`,
    );
    return rows[0] ?? null;
  }

  /**
   * Guests idle since before `before` (ISO time), oldest first, at most `limit`. Last activity
   * is the newest of the user's creation, a chat's last message and a job's creation (the
   * schema has no last-seen column; every write a user makes touches one of these).
   * Every user is a guest until accounts exist (API.md, "Accounts and sessions"): the
   * accounts change must restrict this to `kind = 'guest'`.
   */
  async idleGuests(before: string, limit: number): Promise<string[]> {
    const rows = await this.db.all<{ id: string }>(
      sql`SELECT u.id FROM users u
        WHERE u.created_at < ${before}
          AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.user_id = u.id AND c.last_message_at >= ${before})
          AND NOT EXISTS (SELECT 1 FROM image_generation_history j WHERE j.user_id = u.id AND j.created_at >= ${before})
        ORDER BY u.created_at, u.id
        LIMIT ${limit}`,
    );
    return rows.map((row) => row.id);
  }

  /** Storage keys of every image the user's jobs stored (to delete before the rows). */
  async imageKeys(userId: string): Promise<string[]> {
    const rows = await this.db.all<{ images: string }>(
      sql`SELECT images FROM image_generation_history WHERE user_id = ${userId}`,
    );
    return rows.flatMap((row) => {
      const images = (typeof row.images === "string" ? JSON.parse(row.images) : row.images) as {
        key?: string;
      }[];
      return images.flatMap((image) => (typeof image.key === "string" ? [image.key] : []));
    });
  }

  /**
   * Deletes the user and everything it owns - characters (and their tags), chats, messages,
   * jobs, idempotency keys - in one atomic batch. Stored images are the caller's to delete
   * first (`imageKeys`). Other users' chats with its public characters stay, as when the owner
   * deletes a character.
   */
  async deleteWithEverything(userId: string): Promise<void> {
    await this.db.batch([
      // Its chats with others' characters that counted for "popular" stop counting.
      sql`UPDATE characters SET chat_count = chat_count - (SELECT COUNT(*) FROM chats c
            WHERE c.character_id = characters.id AND c.user_id = ${userId} AND ${hasUserMessage(sql`c.id`)})
          WHERE id IN (SELECT character_id FROM chats WHERE user_id = ${userId})`,
      sql`DELETE FROM character_tags WHERE character_id IN (SELECT id FROM characters WHERE owner_id = ${userId})`,
      sql`DELETE FROM chat_history WHERE user_id = ${userId}`,
      sql`DELETE FROM chats WHERE user_id = ${userId}`,
      sql`DELETE FROM idempotency_keys WHERE user_id = ${userId}`,
      sql`DELETE FROM credit_usage WHERE user_id = ${userId}`,
      sql`DELETE FROM image_generation_history WHERE user_id = ${userId}`,
      sql`DELETE FROM characters WHERE owner_id = ${userId}`,
      sql`DELETE FROM users WHERE id = ${userId}`,
    ]);
  }
}
