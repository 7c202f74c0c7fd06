import type { sqliteTables } from "./sqlite";

/**
 * Rows as the repositories read them, inferred from the schema declaration. The same on both
 * backends: `time` columns come back as ISO strings from D1's text and from PostgreSQL's
 * timestamptz (the client normalises), integers as numbers, booleans as 0/1.
 */
export type UserRow = typeof sqliteTables.users.$inferSelect;
export type CharacterRow = typeof sqliteTables.characters.$inferSelect;
export type CharacterTagRow = typeof sqliteTables.character_tags.$inferSelect;
export type ChatRow = typeof sqliteTables.chats.$inferSelect;
export type ChatHistoryRow = typeof sqliteTables.chat_history.$inferSelect;
export type JobRow = typeof sqliteTables.image_generation_history.$inferSelect;
export type IdempotencyKeyRow = typeof sqliteTables.idempotency_keys.$inferSelect;
