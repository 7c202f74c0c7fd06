import { type SQL, sql } from "drizzle-orm";
import type { UserProfile } from "../db/models";
import type { SqlClient } from "../db/sql-client";

/** JSON kept as text in the database comes out as JSON, not as a string inside a string. */
const JSON_COLUMNS = new Set([
  "tags",
  "card_extras",
  "character_book",
  "params",
  "images",
  "swipes",
  "attachments",
]);

function parsed(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (JSON_COLUMNS.has(key) && typeof value === "string") {
      try {
        out[key] = JSON.parse(value);
        continue;
      } catch {
        // keep the text as stored
      }
    }
    out[key] = value;
  }
  return out;
}

const line = (type: string, record: Record<string, unknown>) => `${JSON.stringify({ type, ...record })}\n`;

/**
 * `GET /me/export`: everything the user owns, one JSON record a line, each with its `type`
 * (`user`, `character`, `chat`, `message`, `generation`, `session`, `passkey`). Never a
 * secret: sessions without their refresh hash, passkeys without key material. Messages are
 * read one chat at a time, so a long history does not sit in memory at once.
 *
 * @example
 * return new Response(toStream(exportLines(db, user)), { headers: { "Content-Type": "application/x-ndjson" } });
 */
export async function* exportLines(db: SqlClient, user: UserProfile): AsyncGenerator<string> {
  yield line("user", { ...user });
  const rows = (query: SQL) => db.all<Record<string, unknown>>(query);
  for (const row of await rows(sql`SELECT id, name, description, personality, scenario, greeting,
      system_prompt, example_dialogue, tags, card_extras, avatar_url, is_public, chat_count, created_at,
      updated_at, appearance, character_book
      FROM characters WHERE owner_id = ${user.id} ORDER BY created_at, id`))
    yield line("character", parsed(row));
  const chats = await rows(sql`SELECT id, character_id, title, created_at, last_message_at, summary,
      summary_through FROM chats WHERE user_id = ${user.id} ORDER BY created_at, id`);
  for (const chat of chats) {
    yield line("chat", chat);
    for (const message of await rows(sql`SELECT id, chat_id, role, content, status, created_at, swipes,
        swipe_index, edited_at, attachments FROM chat_history
        WHERE chat_id = ${chat.id as string} AND user_id = ${user.id} ORDER BY created_at, id`))
      yield line("message", parsed(message));
  }
  for (const row of await rows(sql`SELECT id, character_id, chat_id, status, prompt, negative_prompt,
      params, images, error_code, error_message, credits, created_at, started_at, completed_at, updated_at
      FROM image_generation_history WHERE user_id = ${user.id} ORDER BY created_at, id`))
    yield line("generation", parsed(row));
  for (const row of await rows(sql`SELECT id, user_agent, created_at, last_used_at, revoked_at
      FROM sessions WHERE user_id = ${user.id} ORDER BY created_at, id`))
    yield line("session", row);
  for (const row of await rows(sql`SELECT id, name, device_type, backed_up, created_at, last_used_at
      FROM passkeys WHERE user_id = ${user.id} ORDER BY created_at, id`))
    yield line("passkey", row);
}
