-- Initial schema (PostgreSQL). Same tables and columns as migrations/d1, with native
-- timestamps and the chat history partitioned by month.

CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS characters (
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
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS characters_popular_idx ON characters (is_public, chat_count DESC, id DESC);
CREATE INDEX IF NOT EXISTS characters_public_recent_idx ON characters (is_public, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS characters_owner_idx ON characters (owner_id, created_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS character_tags (
  tag TEXT NOT NULL,
  character_id TEXT NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
  PRIMARY KEY (tag, character_id)
);
CREATE INDEX IF NOT EXISTS character_tags_character_idx ON character_tags (character_id);

CREATE TABLE IF NOT EXISTS chats (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  character_id TEXT NOT NULL,
  title TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  last_message_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS chats_user_recent_idx ON chats (user_id, last_message_at DESC, id DESC);

-- Declarative partitioning by month: old months can be detached/archived whole.
-- The primary key must contain the partition key.
CREATE TABLE IF NOT EXISTS chat_history (
  id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'complete',
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX IF NOT EXISTS chat_history_chat_created_idx ON chat_history (chat_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS chat_history_created_idx ON chat_history (created_at);
-- Catches rows outside every monthly partition, so an insert never fails for want of one.
CREATE TABLE IF NOT EXISTS chat_history_default PARTITION OF chat_history DEFAULT;

-- Creates the partition for the month containing `month_start` (idempotent). Called by
-- the migration for this and next month and by the daily cron for next month.
CREATE OR REPLACE FUNCTION ensure_chat_history_partition(month_start DATE) RETURNS TEXT AS $$
DECLARE
  from_date DATE := date_trunc('month', month_start)::date;
  to_date DATE := (date_trunc('month', month_start) + interval '1 month')::date;
  part_name TEXT := format('chat_history_y%sm%s', to_char(from_date, 'YYYY'), to_char(from_date, 'MM'));
BEGIN
  IF to_regclass(part_name) IS NULL THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF chat_history FOR VALUES FROM (%L) TO (%L)', part_name, from_date, to_date);
  END IF;
  RETURN part_name;
END;
$$ LANGUAGE plpgsql;
SELECT ensure_chat_history_partition(current_date);
SELECT ensure_chat_history_partition((current_date + interval '1 month')::date);

CREATE TABLE IF NOT EXISTS image_generation_history (
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
  created_at TIMESTAMPTZ NOT NULL,
  started_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS image_generation_history_user_created_idx ON image_generation_history (user_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS image_generation_history_user_status_idx ON image_generation_history (user_id, status);
CREATE INDEX IF NOT EXISTS image_generation_history_status_idx ON image_generation_history (status, updated_at);

CREATE TABLE IF NOT EXISTS idempotency_keys (
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  job_id TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (user_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_idx ON idempotency_keys (created_at);
