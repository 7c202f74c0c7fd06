import { buildSqlite } from "./declare";
import { SCHEMA } from "./tables";

/** The schema as D1 (SQLite) tables: what drizzle.d1.config.ts generates migrations/d1 from. */
export const sqliteTables = buildSqlite(SCHEMA);
export const {
  users,
  characters,
  character_tags,
  chats,
  chat_history,
  image_generation_history,
  idempotency_keys,
  credit_usage,
  sessions,
  spent_refresh_tokens,
  webauthn_challenges,
  passkeys,
} = sqliteTables;
