-- Initial schema (D1 / SQLite). Times are ISO-8601 UTC text; JSON columns are text.
-- Ids are time-sortable (see src/lib/ids.ts), so id order is creation order.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE characters (
  id TEXT PRIMARY KEY,
  owner_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  personality TEXT NOT NULL DEFAULT '',
  scenario TEXT NOT NULL DEFAULT '',
  greeting TEXT NOT NULL DEFAULT '',
  system_prompt TEXT NOT NULL DEFAULT '',
  example_dialogue TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]',
  card_extras TEXT,
  avatar_url TEXT,
  is_public INTEGER NOT NULL DEFAULT 0,
  chat_count INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX characters_popular_idx ON characters (is_public, chat_count DESC, id DESC);
CREATE INDEX characters_public_recent_idx ON characters (is_public, created_at DESC, id DESC);
CREATE INDEX characters_owner_idx ON characters (owner_id, created_at DESC, id DESC);

-- One row per (tag, character): the tag filter is an index lookup, on both backends.
CREATE TABLE character_tags (
  tag TEXT NOT NULL,
  character_id TEXT NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
  PRIMARY KEY (tag, character_id)
);
CREATE INDEX character_tags_character_idx ON character_tags (character_id);

CREATE TABLE chats (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  character_id TEXT NOT NULL,
  title TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_message_at TEXT NOT NULL
);
CREATE INDEX chats_user_recent_idx ON chats (user_id, last_message_at DESC, id DESC);

-- status: complete | cancelled | failed (a reply cut short keeps what was streamed).
CREATE TABLE chat_history (
  id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'complete',
  created_at TEXT NOT NULL,
  PRIMARY KEY (id)
);
CREATE INDEX chat_history_chat_created_idx ON chat_history (chat_id, created_at DESC, id DESC);
CREATE INDEX chat_history_created_idx ON chat_history (created_at);

CREATE TABLE image_generation_history (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  character_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  prompt TEXT NOT NULL,
  negative_prompt TEXT NOT NULL DEFAULT '',
  params TEXT NOT NULL,
  images TEXT NOT NULL DEFAULT '[]',
  error_code TEXT,
  error_message TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  upstream_id TEXT,
  dead_lettered INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  started_at TEXT,
  completed_at TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX image_generation_history_user_created_idx ON image_generation_history (user_id, created_at DESC, id DESC);
CREATE INDEX image_generation_history_user_status_idx ON image_generation_history (user_id, status);
CREATE INDEX image_generation_history_status_idx ON image_generation_history (status, updated_at);

CREATE TABLE idempotency_keys (
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  job_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
