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
      /** `guest` or `account` (an account has at least one passkey). */
      kind: text().notNull().default("guest"),
      /** The persona the user plays: its name fills `{{user}}`, its description goes into prompts. */
      persona_name: text(),
      persona_description: text(),
      /** Last sign-in or token refresh; idle guests are deleted after GUEST_RETENTION_DAYS. */
      last_seen_at: time(),
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
      /** How the character looks, for pictures (<= 1000 chars). */
      appearance: text().notNull().default(""),
      /** JSON: the Character Card V2 `character_book` (lorebook), kept unchanged. */
      character_book: text(),
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
      /** Rolling long-term memory of the turns that no longer fit the prompt. */
      summary: text(),
      /** The newest message folded into `summary`. */
      summary_through: text(),
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
      /** JSON `[{content, created_at}]`: the alternatives of an assistant reply; `[]` = just `content`. */
      swipes: text().notNull().default("[]"),
      /** The selected alternative; `content` always holds its text. */
      swipe_index: integer().notNull().default(0),
      edited_at: time(),
      /** JSON `[{kind: "image", job_id, url, width, height}]`. */
      attachments: text().notNull().default("[]"),
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
      /** The chat a picture was asked for in (`chat.picture`); null for the Create page. */
      chat_id: text(),
      /** Credits charged when the job was accepted, and the UTC day they count against (refunds go there). */
      credits: integer().notNull().default(0),
      credit_day: text(),
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

  /** Credits spent per user per UTC day (API.md, "Spend and abuse limits"); charged with a guarded UPDATE. */
  credit_usage: table({
    columns: {
      user_id: text().notNull().references("users"),
      day: text().notNull(),
      used: integer().notNull().default(0),
    },
    primaryKey: ["user_id", "day"],
  }),

  /** A sign-in: its refresh token rotates on every use and is stored only as a SHA-256 hash. */
  sessions: table({
    columns: {
      id: text().primaryKey(),
      user_id: text().notNull().references("users"),
      refresh_hash: text().notNull(),
      user_agent: text(),
      created_at: time().notNull(),
      last_used_at: time().notNull(),
      revoked_at: time(),
    },
    indexes: {
      sessions_refresh_idx: ["refresh_hash"],
      sessions_user_idx: ["user_id", desc("created_at")],
    },
  }),

  /** Refresh tokens already used: presenting one again revokes its session. */
  spent_refresh_tokens: table({
    columns: {
      hash: text().primaryKey(),
      session_id: text().notNull().references("sessions"),
      spent_at: time().notNull(),
    },
  }),

  /** WebAuthn challenges: single-use (taken with DELETE ... RETURNING), 5 minutes. */
  webauthn_challenges: table({
    columns: {
      challenge: text().primaryKey(),
      purpose: text().notNull(),
      user_id: text().references("users"),
      rp_id: text().notNull(),
      origin: text().notNull(),
      expires_at: time().notNull(),
    },
    indexes: { webauthn_challenges_expires_idx: ["expires_at"] },
  }),

  passkeys: table({
    columns: {
      id: text().primaryKey(),
      user_id: text().notNull().references("users"),
      credential_id: text().notNull(),
      /** base64url COSE public key. */
      public_key: text().notNull(),
      counter: integer().notNull().default(0),
      /** JSON array of transports. */
      transports: text().notNull().default("[]"),
      device_type: text(),
      backed_up: integer().notNull().default(0),
      aaguid: text(),
      name: text().notNull(),
      created_at: time().notNull(),
      last_used_at: time(),
    },
    indexes: {
      passkeys_credential_idx: ["credential_id"],
      passkeys_user_idx: ["user_id", desc("created_at")],
    },
  }),
};
