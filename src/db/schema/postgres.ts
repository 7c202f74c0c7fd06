import { buildPostgres } from "./declare";
import { SCHEMA } from "./tables";

/**
 * The schema as PostgreSQL tables: what drizzle.pg.config.ts generates migrations/postgres
 * from. `chat_history`'s monthly partitions are not here (drizzle-kit cannot express them):
 * migrations/postgres/0001_init.sql sets them up by hand.
 */
export const pgTables = buildPostgres(SCHEMA);
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
} = pgTables;
