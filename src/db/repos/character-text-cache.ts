import type { Character, CharacterFields } from "../models";

/** The columns a character's own edits change; each such edit also sets `updated_at`. */
export type CharacterText = Omit<CharacterFields, "is_public">;

/** The columns other writers change without `updated_at` (counts, a guest's merge), read every time. */
export type CharacterFresh = Pick<
  Character,
  "id" | "owner_id" | "is_public" | "chat_count" | "created_at" | "updated_at"
>;

/**
 * Only text last edited this long ago is kept: two edits in the same millisecond would share
 * an `updated_at`, and one that old can no longer get a twin (short of clocks this far apart).
 */
export const SETTLED_MS = 60_000;
/** Characters kept per isolate (a public page is 20; imported cards may carry a lorebook). */
export const MAX_ENTRIES = 500;

interface Entry {
  updatedAt: string;
  text: CharacterText;
}

/**
 * Per-isolate copies of characters' text columns, keyed by backend and id and valid for one
 * `updated_at`: `GET /characters` reads the small columns of a page and only the text of
 * characters it has not seen at that `updated_at` (the text is most of a row's bytes, and
 * parsing D1's answer is a large part of the list's CPU). Least recently used go first.
 */
export class CharacterTextCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  /** The text of `fresh` as last stored at its `updated_at`, or undefined. */
  get(backend: string, fresh: Pick<CharacterFresh, "id" | "updated_at">): CharacterText | undefined {
    const key = `${backend}:${fresh.id}`;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.updatedAt !== fresh.updated_at) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.text;
  }

  /** Keeps a character's text if its last edit is settled (older than SETTLED_MS). */
  remember(backend: string, character: Character): void {
    const edited = Date.parse(character.updated_at);
    if (!(edited < this.now() - SETTLED_MS)) return;
    const key = `${backend}:${character.id}`;
    this.#entries.delete(key);
    this.#entries.set(key, { updatedAt: character.updated_at, text: textOf(character) });
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

function textOf(c: Character): CharacterText {
  return {
    name: c.name,
    description: c.description,
    personality: c.personality,
    scenario: c.scenario,
    greeting: c.greeting,
    system_prompt: c.system_prompt,
    example_dialogue: c.example_dialogue,
    tags: c.tags,
    avatar_url: c.avatar_url,
    appearance: c.appearance,
    character_book: c.character_book,
  };
}

/** A character from its fresh columns and cached text, in the key order of a full row. */
export function composeCharacter(fresh: CharacterFresh, text: CharacterText): Character {
  return {
    id: fresh.id,
    owner_id: fresh.owner_id,
    name: text.name,
    description: text.description,
    personality: text.personality,
    scenario: text.scenario,
    greeting: text.greeting,
    system_prompt: text.system_prompt,
    example_dialogue: text.example_dialogue,
    tags: [...text.tags],
    avatar_url: text.avatar_url,
    is_public: fresh.is_public,
    appearance: text.appearance,
    character_book: text.character_book,
    chat_count: fresh.chat_count,
    created_at: fresh.created_at,
    updated_at: fresh.updated_at,
  };
}
