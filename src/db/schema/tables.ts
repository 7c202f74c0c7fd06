import { desc, integer, table, text, time } from "./declare";

/**
 * The database schema, declared once (see ./declare.ts for how it becomes D1's and
 * PostgreSQL's drizzle tables). Ids are time-sortable (src/lib/ids.ts), so id order is
 * creation order; JSON columns are text. Listed parents first: the order a restore inserts in.
 *
 * After changing it: `npm run db:generate` writes the next migration for both backends
 * (migrations/README.md).
 */
export const SCHEMA = {
  users: table({
    columns: {
      id: text().primaryKey(),
      display_name: text().notNull(),
      created_at: time().notNull(),
    },
  }),

  characters: table({
    columns: {
      id: text().primaryKey(),
      /** Null for the sample characters everyone sees. */
      owner_id: text().references("users"),
      name: text().notNull(),
      description: text().notNull().default(""),
      personality: text().notNull().default(""),
      scenario: text().notNull().default(""),
      greeting: text().notNull().default(""),
      system_prompt: text().notNull().default(""),
      example_dialogue: text().notNull().default(""),
      /** JSON array of strings; `character_tags` indexes it. */
      tags: text().notNull().default("[]"),
      /** JSON: the card fields kept at import (null for characters made by hand). */
      card_extras: text(),
      avatar_url: text(),
      is_public: integer().notNull().default(0),
      chat_count: integer().notNull().default(0),
      created_at: time().notNull(),
      updated_at: time().notNull(),
    },
    indexes: {
      characters_popular_idx: ["is_public", desc("chat_count"), desc("id")],
      characters_public_recent_idx: ["is_public", desc("created_at"), desc("id")],
      characters_owner_idx: ["owner_id", desc("created_at"), desc("id")],
    },
  }),

  /** One row per (tag, character): the tag filter is an index lookup, on both backends. */
  character_tags: table({
    columns: {
      tag: text().notNull(),
      character_id: text().notNull().references("characters"),
    },
    primaryKey: ["tag", "character_id"],
    indexes: { character_tags_character_idx: ["character_id"] },
  }),

  chats: table({
    columns: {
      id: text().primaryKey(),
      user_id: text().notNull().references("users"),
      character_id: text().notNull(),
      title: text().notNull(),
      created_at: time().notNull(),
      last_message_at: time().notNull(),
    },
    indexes: { chats_user_recent_idx: ["user_id", desc("last_message_at"), desc("id")] },
  }),

  /** status: `cancelled`/`failed` is an assistant reply cut short, which keeps what was streamed. */
  chat_history: table({
    columns: {
      id: text().notNull(),
      chat_id: text().notNull(),
      user_id: text().notNull(),
      role: text().notNull().oneOf(["user", "assistant"]),
      content: text().notNull(),
      status: text().notNull().default("complete"),
      created_at: time().notNull(),
    },
    primaryKey: ["id"],
    // Monthly partitions on PostgreSQL: old months can be detached/archived whole.
    partitionedBy: "created_at",
    indexes: {
      chat_history_chat_created_idx: ["chat_id", desc("created_at"), desc("id")],
      chat_history_created_idx: ["created_at"],
    },
  }),

  image_generation_history: table({
    columns: {
      id: text().primaryKey(),
      user_id: text().notNull().references("users"),
      character_id: text(),
      status: text().notNull().oneOf(["queued", "running", "succeeded", "failed", "cancelled"]),
      prompt: text().notNull(),
      negative_prompt: text().notNull().default(""),
      /** JSON: width, height, steps, seed, guidance. */
      params: text().notNull(),
      /** JSON array of stored images. */
      images: text().notNull().default("[]"),
      error_code: text(),
      error_message: text(),
      attempts: integer().notNull().default(0),
      upstream_id: text(),
      dead_lettered: integer().notNull().default(0),
      created_at: time().notNull(),
      started_at: time(),
      completed_at: time(),
      updated_at: time().notNull(),
    },
    indexes: {
      image_generation_history_user_created_idx: ["user_id", desc("created_at"), desc("id")],
      image_generation_history_user_status_idx: ["user_id", "status"],
      image_generation_history_status_idx: ["status", "updated_at"],
    },
  }),

  idempotency_keys: table({
    columns: {
      user_id: text().notNull(),
      key: text().notNull(),
      request_hash: text().notNull(),
      job_id: text().notNull(),
      created_at: time().notNull(),
    },
    primaryKey: ["user_id", "key"],
    indexes: { idempotency_keys_created_idx: ["created_at"] },
  }),
};
