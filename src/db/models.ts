/** The API's resource shapes (API.md), as repositories return them. */

export interface User {
  id: string;
  display_name: string;
  created_at: string;
}

/** A user as API.md shows it (Accounts and sessions). */
export interface UserProfile extends User {
  kind: "guest" | "account";
  persona: { name: string; description: string } | null;
}

export interface Character {
  id: string;
  name: string;
  description: string;
  personality: string;
  scenario: string;
  greeting: string;
  system_prompt: string;
  example_dialogue: string;
  tags: string[];
  avatar_url: string | null;
  is_public: boolean;
  /** How the character looks: the start of every picture prompt (issue 13). */
  appearance: string;
  /** The Character Card V2 lorebook, as sent or imported (JSON kept unchanged). */
  character_book: Record<string, unknown> | null;
  owner_id: string | null;
  chat_count: number;
  created_at: string;
  updated_at: string;
}

/** Editable character fields (create, patch, card import). */
export type CharacterFields = Pick<
  Character,
  | "name"
  | "description"
  | "personality"
  | "scenario"
  | "greeting"
  | "system_prompt"
  | "example_dialogue"
  | "tags"
  | "avatar_url"
  | "is_public"
  | "appearance"
  | "character_book"
>;

export interface Chat {
  id: string;
  character_id: string;
  title: string;
  created_at: string;
  last_message_at: string;
  /** Rolling long-term memory of turns that no longer fit the prompt (issue 13). */
  summary: string | null;
  /** The newest message folded into `summary`. */
  summary_through: string | null;
}

export type MessageRole = "user" | "assistant";
/** `cancelled`/`failed`: an assistant reply cut short; what was streamed is kept. */
export type MessageStatus = "complete" | "cancelled" | "failed";

/** An image the character sent into the chat (`chat.picture`). */
export interface MessageAttachment {
  kind: "image";
  job_id: string;
  url: string;
  width: number;
  height: number;
}

export interface Message {
  id: string;
  chat_id: string;
  role: MessageRole;
  /** The selected alternative, as edited: what the model and the user see. */
  content: string;
  status: MessageStatus;
  created_at: string;
  swipe_index: number;
  /** Alternatives of an assistant reply (1 for a user message). */
  swipe_count: number;
  edited_at: string | null;
  attachments: MessageAttachment[];
}

/** One alternative of a reply as stored. */
export interface StoredSwipe {
  content: string;
  created_at: string;
}

/** A message with all its alternatives (what regenerate, swipe and the ST export work on). */
export interface FullMessage extends Message {
  swipes: StoredSwipe[];
}

/** A message to store: the conversation-depth fields default to one alternative, unedited, no attachment. */
export type NewMessage = Omit<Message, "swipe_index" | "swipe_count" | "edited_at" | "attachments"> &
  Partial<Pick<Message, "swipe_index" | "edited_at" | "attachments">> & { swipes?: StoredSwipe[] };

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];
export const ACTIVE_STATUSES: readonly JobStatus[] = ["queued", "running"];

export interface GenerationParams {
  width: number;
  height: number;
  steps: number;
  seed: number;
  guidance: number;
}

export interface JobImage {
  url: string;
  width: number;
  height: number;
  content_type: string;
  /** Storage key; not part of the public shape (the URL is derived from it). */
  key?: string;
}

export interface Job {
  id: string;
  user_id: string;
  status: JobStatus;
  prompt: string;
  negative_prompt: string;
  params: GenerationParams;
  character_id: string | null;
  /** The chat a picture was asked for in (`chat.picture`); absent or null for other jobs. */
  chat_id?: string | null;
  images: JobImage[];
  error: { code: string; message: string } | null;
  attempts: number;
  upstream_id: string | null;
  dead_lettered: boolean;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string;
}
