import { sql } from "drizzle-orm";
import { type CharacterBook, characterBookSchema } from "../conversation";
import type { Chat, Message } from "../db/models";
import type { Repository } from "../db/repository";
import { userCallName } from "./names";
import type { HistoryMessage, PromptCharacter, PromptInput } from "./prompt-builder";

/** A turn refused before anything was stored; `code` goes into the `error` frame. */
export class TurnRefused extends Error {
  constructor(
    readonly code: "not_found" | "conflict" | "quota_exceeded" | "invalid_request",
    readonly detail: string,
  ) {
    super(detail);
    this.name = "TurnRefused";
  }
}

/** Everything a reply is written from. */
export interface TurnContext {
  chat: Chat;
  character: PromptCharacter;
  /** The persona name when the user set one, else the display name: what `{{user}}` becomes. */
  userName: string;
  /** The persona description, part of the prompt. */
  personaDescription?: string | null;
  characterBook?: CharacterBook | null;
  /** How the character looks (pictures in chat). */
  appearance?: string;
  /** Oldest first. */
  history: HistoryMessage[];
  /** The character's `updated_at` when it was read: a kept context is stale once it moves. */
  characterVersion?: string | null;
}

/** A timestamp as a comparable string, whichever driver read it (PostgreSQL may give a Date). */
export function versionOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}

/** The prompt input of a turn's context (everything but the new message). */
export function promptInputOf(context: TurnContext, budgetChars: number): Omit<PromptInput, "message"> {
  return {
    character: context.character,
    userName: context.userName,
    history: context.history,
    budgetChars,
    personaDescription: context.personaDescription ?? null,
    characterBook: context.characterBook ?? null,
    summary: context.chat.summary,
  };
}

interface DepthRow {
  persona_name: string | null;
  persona_description: string | null;
  character_book: string | null;
  card_extras: string | null;
  appearance: string | null;
}

/**
 * The user's persona and the chat character's lorebook and appearance, in one query. A book
 * imported before it had a column of its own is still in the card's extras.
 */
async function loadDepth(repo: Repository, userId: string, chatId: string): Promise<DepthRow | null> {
  const rows = await repo.sql.all<DepthRow>(
    sql`SELECT u.persona_name, u.persona_description, ch.character_book, ch.card_extras, ch.appearance
        FROM chats c JOIN users u ON u.id = c.user_id JOIN characters ch ON ch.id = c.character_id
        WHERE c.id = ${chatId} AND c.user_id = ${userId}`,
  );
  return rows[0] ?? null;
}

/** The lorebook, validated; a book that fails the schema never breaks a turn (no lore instead). */
export function bookOf(characterBook: string | null, cardExtras: string | null): CharacterBook | null {
  try {
    let raw: unknown = characterBook ? JSON.parse(characterBook) : undefined;
    if (raw === undefined && cardExtras) {
      // Card import keeps what has no column under `data` (src/cards/card-extras.ts).
      const extras = JSON.parse(cardExtras) as {
        data?: { character_book?: unknown };
        character_book?: unknown;
      };
      raw = extras.data?.character_book ?? extras.character_book;
    }
    if (raw === undefined || raw === null) return null;
    const parsed = characterBookSchema.safeParse(raw);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const HISTORY_PAGE = 50;
/** However short the messages, a prompt never reads more than this many. */
const HISTORY_MAX_MESSAGES = 500;

/**
 * The most recent messages whose text adds up to about `budgetChars` (one page more than
 * the prompt builder can use, so it decides exactly where to cut), oldest first.
 */
export async function loadRecentHistory(
  repo: Repository,
  chatId: string,
  budgetChars: number,
): Promise<Message[]> {
  const newestFirst: Message[] = [];
  let chars = 0;
  let before: Message | undefined;
  while (chars < budgetChars && newestFirst.length < HISTORY_MAX_MESSAGES) {
    const page = await repo.chats.messages(chatId, HISTORY_PAGE, before);
    for (const message of page) chars += message.content.length;
    newestFirst.push(...page);
    before = page[page.length - 1];
    if (page.length < HISTORY_PAGE) break;
  }
  return newestFirst.reverse();
}

/**
 * Loads the user's chat, its character, the user's name and recent history; refuses a chat
 * that is not the user's (the same answer as one that does not exist).
 */
export async function loadTurnContext(
  repo: Repository,
  userId: string,
  chatId: string,
  budgetChars: number,
): Promise<TurnContext> {
  // Everything is read at once, in one round trip: a woken session (most turns, after the
  // user has been reading or typing for a while) pays one database latency, not two. History
  // and character are dropped unread when the chat is not the user's.
  const [chat, character, user, history, depth] = await Promise.all([
    repo.chats.get(chatId, userId),
    repo.characters.ofChat(chatId, userId),
    repo.users.get(userId),
    loadRecentHistory(repo, chatId, budgetChars),
    loadDepth(repo, userId, chatId),
  ]);
  if (!chat) throw new TurnRefused("not_found", "No such chat.");
  if (!character) throw new TurnRefused("not_found", "The character of this chat is no longer available.");
  const personaName = depth?.persona_name?.trim();
  return {
    chat,
    // Only what the prompt uses: the session keeps this in its storage.
    character: {
      name: character.name,
      system_prompt: character.system_prompt,
      description: character.description,
      personality: character.personality,
      scenario: character.scenario,
      example_dialogue: character.example_dialogue,
    },
    characterVersion: versionOf(character.updated_at),
    userName: personaName ? personaName : userCallName(user),
    personaDescription: depth?.persona_description ?? null,
    characterBook: bookOf(depth?.character_book ?? null, depth?.card_extras ?? null),
    appearance: depth?.appearance ?? "",
    history: history.map((message) => ({ id: message.id, role: message.role, content: message.content })),
  };
}
