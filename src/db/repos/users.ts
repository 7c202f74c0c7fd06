import { sql } from "drizzle-orm";
import type { User, UserProfile } from "../models";
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

  /** The user as API.md shows it (`kind`, `persona`), or null. */
  async profile(id: string): Promise<UserProfile | null> {
    const [row] = await this.db.all<{
      id: string;
      display_name: string;
      created_at: string;
      kind: string;
      persona_name: string | null;
      persona_description: string | null;
    }>(
      sql`SELECT id, display_name, created_at, kind, persona_name, persona_description FROM users WHERE id = ${id}`,
    );
    if (!row) return null;
    return {
      id: row.id,
      display_name: row.display_name,
      created_at: row.created_at,
      kind: row.kind === "account" ? "account" : "guest",
      persona:
        row.persona_name === null
          ? null
          : { name: row.persona_name, description: row.persona_description ?? "" },
    };
  }

  /** `PATCH /me`: only the fields given change; `persona: null` clears it. False when the user is gone. */
  async updateProfile(
    id: string,
    patch: { display_name?: string; persona?: { name: string; description: string } | null },
  ): Promise<boolean> {
    const sets = [];
    if (patch.display_name !== undefined) sets.push(sql`display_name = ${patch.display_name}`);
    if (patch.persona !== undefined) {
      sets.push(sql`persona_name = ${patch.persona?.name ?? null}`);
      sets.push(sql`persona_description = ${patch.persona?.description ?? null}`);
    }
    if (sets.length === 0) return (await this.get(id)) !== null;
    return (await this.db.run(sql`UPDATE users SET ${sql.join(sets, sql`, `)} WHERE id = ${id}`)) > 0;
  }

  /** A guest that registered a passkey becomes an account (and stays one). */
  async makeAccount(id: string): Promise<void> {
    await this.db.run(sql`UPDATE users SET kind = 'account' WHERE id = ${id}`);
  }

  /** Sign-in and refresh: what idle-guest deletion measures. */
  async touch(id: string, at: string): Promise<void> {
    await this.db.run(sql`UPDATE users SET last_seen_at = ${at} WHERE id = ${id}`);
  }

  /**
   * Guests (never accounts) idle since before `before` (ISO time), oldest first, at most
   * `limit`. Last activity is the newest of the user's creation or last sign-in/refresh
   * (`last_seen_at`), a chat's last message and a job's creation.
   */
  async idleGuests(before: string, limit: number): Promise<string[]> {
    const rows = await this.db.all<{ id: string }>(
      sql`SELECT u.id FROM users u
        WHERE u.kind = 'guest'
          AND u.created_at < ${before}
          AND (u.last_seen_at IS NULL OR u.last_seen_at < ${before})
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
   * jobs, idempotency keys, credit usage, sessions (and their spent refresh tokens), WebAuthn
   * challenges, passkeys - in one atomic batch. Stored images are the caller's to delete
   * first (`imageKeys`; src/accounts/delete-user.ts does both). Other users' chats with its
   * public characters stay, as when the owner deletes a character. The foreign keys cascade
   * too; the explicit statements keep this independent of that.
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
      sql`DELETE FROM spent_refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ${userId})`,
      sql`DELETE FROM sessions WHERE user_id = ${userId}`,
      sql`DELETE FROM webauthn_challenges WHERE user_id = ${userId}`,
      sql`DELETE FROM passkeys WHERE user_id = ${userId}`,
      sql`DELETE FROM users WHERE id = ${userId}`,
    ]);
  }

  /**
   * Passkey login from a guest session: the guest's characters, chats (with their messages)
   * and jobs (with their idempotency keys) move to the account in one batch, then the guest
   * row goes (its sessions, challenges and credit usage with it). Returns what moved.
   */
  async mergeGuestInto(
    guestId: string,
    accountId: string,
  ): Promise<{ characters: number; chats: number; generations: number }> {
    const count = async (query: ReturnType<typeof sql>) =>
      Number((await this.db.all<{ n: number | string }>(query))[0]?.n ?? 0);
    const merged = {
      characters: await count(sql`SELECT COUNT(*) AS n FROM characters WHERE owner_id = ${guestId}`),
      chats: await count(sql`SELECT COUNT(*) AS n FROM chats WHERE user_id = ${guestId}`),
      generations: await count(
        sql`SELECT COUNT(*) AS n FROM image_generation_history WHERE user_id = ${guestId}`,
      ),
    };
    await this.db.batch([
      sql`UPDATE characters SET owner_id = ${accountId} WHERE owner_id = ${guestId}`,
      sql`UPDATE chats SET user_id = ${accountId} WHERE user_id = ${guestId}`,
      sql`UPDATE chat_history SET user_id = ${accountId} WHERE user_id = ${guestId}`,
      sql`UPDATE image_generation_history SET user_id = ${accountId} WHERE user_id = ${guestId}`,
      // Keys the account already used stay the account's; the guest's clashing ones go.
      sql`DELETE FROM idempotency_keys WHERE user_id = ${guestId}
        AND key IN (SELECT key FROM idempotency_keys WHERE user_id = ${accountId})`,
      sql`UPDATE idempotency_keys SET user_id = ${accountId} WHERE user_id = ${guestId}`,
      sql`DELETE FROM credit_usage WHERE user_id = ${guestId}`,
      sql`DELETE FROM spent_refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ${guestId})`,
      sql`DELETE FROM sessions WHERE user_id = ${guestId}`,
      sql`DELETE FROM webauthn_challenges WHERE user_id = ${guestId}`,
      sql`DELETE FROM passkeys WHERE user_id = ${guestId}`,
      sql`DELETE FROM users WHERE id = ${guestId}`,
    ]);
    return merged;
  }
}
