import type { CharacterBook, CharacterBookEntry } from "./character-book";
import { characterBookEntrySchema } from "./character-book";
import { keyMatches } from "./key-matcher";

/** SillyTavern's and the contract's default: the last 4 messages are scanned. */
export const DEFAULT_SCAN_DEPTH = 4;
/** SillyTavern's ceiling on scan depth. */
export const MAX_SCAN_DEPTH = 1000;
/** The contract's token estimate. */
export const CHARS_PER_TOKEN = 4;
/** Passes of recursive scanning after the first (SillyTavern caps recursion the same way). */
export const MAX_RECURSION_PASSES = 3;
/** Regex keys never see more than this much text, whatever the scan depth. */
export const SCAN_TEXT_MAX_CHARS = 50_000;

export type LorePosition = "before_char" | "after_char";

/** An entry that goes into the prompt. `content` is raw: macros are the prompt builder's job. */
export interface ActiveLoreEntry {
  /** Index of the entry in `character_book.entries`. */
  index: number;
  /** `name`, else a non-empty `comment` (SillyTavern's title), else null. */
  name: string | null;
  content: string;
  position: LorePosition;
  insertion_order: number;
  priority: number;
}

export interface LoreActivation {
  /** Active entries at `before_char`, by `insertion_order` (then book order). */
  before: ActiveLoreEntry[];
  /** Active entries at `after_char`, the same order. */
  after: ActiveLoreEntry[];
  /** Every entry that went in, in insertion order: what `GET /chats/:id/context` lists as `lore`. */
  fired: { index: number; name: string | null }[];
  /** Entries that matched but were dropped for the budget, lowest priority first. */
  dropped: { index: number; name: string | null }[];
  /** Characters of content that went in. */
  chars: number;
}

export interface LoreScanOptions {
  /**
   * A ceiling from the caller (the prompt builder's lore section), in characters; the book's
   * own `token_budget` x 4 applies too, the smaller wins. Without either, no budget.
   */
  budgetChars?: number;
}

interface Candidate extends ActiveLoreEntry {
  entry: CharacterBookEntry;
}

const EMPTY: LoreActivation = { before: [], after: [], fired: [], dropped: [], chars: 0 };

function titleOf(entry: CharacterBookEntry): string | null {
  if (entry.name) return entry.name;
  return entry.comment ? entry.comment : null;
}

function scanDepthOf(book: CharacterBook): number {
  const depth = book.scan_depth ?? DEFAULT_SCAN_DEPTH;
  return Math.max(0, Math.min(MAX_SCAN_DEPTH, Math.floor(depth)));
}

/** Whether an entry fires on `text` (already the last `scan_depth` messages). */
function fires(entry: CharacterBookEntry, text: string): boolean {
  const options = {
    caseSensitive: entry.case_sensitive === true,
    wholeWords: entry.extensions?.match_whole_words === true,
  };
  const matchAny = (keys: string[] | undefined) => (keys ?? []).some((key) => keyMatches(text, key, options));
  if (!matchAny(entry.keys)) return false;
  // V2: a selective entry needs a secondary key too (SillyTavern's "AND ANY" logic).
  return entry.selective !== true || matchAny(entry.secondary_keys);
}

/** Book entries that pass the schema, with their index; a malformed entry never activates. */
function usableEntries(book: CharacterBook): { entry: CharacterBookEntry; index: number }[] {
  const usable: { entry: CharacterBookEntry; index: number }[] = [];
  book.entries.forEach((raw, index) => {
    const parsed = characterBookEntrySchema.safeParse(raw);
    if (parsed.success && parsed.data.enabled) usable.push({ entry: parsed.data, index });
  });
  return usable;
}

function candidateOf(entry: CharacterBookEntry, index: number): Candidate {
  return {
    entry,
    index,
    name: titleOf(entry),
    content: entry.content,
    position: entry.position === "after_char" ? "after_char" : "before_char",
    insertion_order: entry.insertion_order,
    // SillyTavern drops by `order` (= insertion_order) when an entry has no priority of its own.
    priority: entry.priority ?? entry.insertion_order,
  };
}

/**
 * Which lorebook entries go into the next prompt, by the Character Card V2 rules and
 * SillyTavern's world info: a disabled entry never; a `constant` one always; otherwise one of
 * its `keys` must occur in the last `scan_depth` messages (default 4), and for a `selective`
 * entry one of its `secondary_keys` too. Matching is case-insensitive unless `case_sensitive`;
 * a key `/like this/i` is a regular expression. With `recursive_scanning`, the content of
 * entries that fired is scanned too (up to 3 more passes). Over the budget (`token_budget`
 * x 4 characters, and the caller's `budgetChars`), the lowest `priority` goes first (missing
 * priority: `insertion_order`; ties: the later entry). The rest go in by `insertion_order`.
 *
 * @param messages The chat so far, oldest first (selected alternatives, edited text).
 * @example
 * const lore = activateLore(card.character_book, history, { budgetChars: 2000 });
 * prompt.push(...lore.before.map((e) => e.content));
 */
export function activateLore(
  book: CharacterBook | null | undefined,
  messages: readonly { content: string }[],
  options: LoreScanOptions = {},
): LoreActivation {
  if (!book || !Array.isArray(book.entries)) return EMPTY;
  const depth = scanDepthOf(book);
  let text =
    depth === 0
      ? ""
      : messages
          .slice(-depth)
          .map((message) => message.content)
          .join("\n");
  text = text.slice(-SCAN_TEXT_MAX_CHARS);

  const pending = usableEntries(book);
  const active: Candidate[] = [];
  const take = (matches: (entry: CharacterBookEntry) => boolean) => {
    const taken: Candidate[] = [];
    for (let i = pending.length - 1; i >= 0; i--) {
      const { entry, index } = pending[i] as { entry: CharacterBookEntry; index: number };
      if (matches(entry)) {
        taken.push(candidateOf(entry, index));
        pending.splice(i, 1);
      }
    }
    active.push(...taken);
    return taken;
  };

  take((entry) => entry.constant === true);
  let fresh = take((entry) => fires(entry, text));
  for (
    let pass = 0;
    book.recursive_scanning === true && fresh.length > 0 && pass < MAX_RECURSION_PASSES;
    pass++
  ) {
    const recursed = fresh
      .map((candidate) => candidate.content)
      .join("\n")
      .slice(0, SCAN_TEXT_MAX_CHARS);
    fresh = take((entry) => fires(entry, recursed));
  }

  const kept = withinBudget(active, budgetOf(book, options));
  const inOrder = kept.kept.sort((a, b) => a.insertion_order - b.insertion_order || a.index - b.index);
  const strip = ({ entry: _entry, ...rest }: Candidate): ActiveLoreEntry => rest;
  return {
    before: inOrder.filter((c) => c.position === "before_char").map(strip),
    after: inOrder.filter((c) => c.position === "after_char").map(strip),
    fired: inOrder.map(({ index, name }) => ({ index, name })),
    dropped: kept.dropped.map(({ index, name }) => ({ index, name })),
    chars: inOrder.reduce((sum, c) => sum + c.content.length, 0),
  };
}

function budgetOf(book: CharacterBook, options: LoreScanOptions): number {
  const limits = [
    options.budgetChars,
    book.token_budget === undefined ? undefined : book.token_budget * CHARS_PER_TOKEN,
  ];
  const set = limits.filter((limit): limit is number => limit !== undefined && limit >= 0);
  return set.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...set);
}

/**
 * Drops the lowest priority until the rest fits. Equivalently, keeps the longest run of
 * entries, highest priority first, whose content fits: SillyTavern stops adding at the first
 * entry that overflows the budget, and so do we (a smaller entry further down does not jump it).
 */
function withinBudget(active: Candidate[], budget: number): { kept: Candidate[]; dropped: Candidate[] } {
  const byPriority = [...active].sort(
    (a, b) => b.priority - a.priority || a.insertion_order - b.insertion_order || a.index - b.index,
  );
  let used = 0;
  let cut = byPriority.length;
  for (const [i, candidate] of byPriority.entries()) {
    if (used + candidate.content.length > budget) {
      cut = i;
      break;
    }
    used += candidate.content.length;
  }
  return { kept: byPriority.slice(0, cut), dropped: byPriority.slice(cut).reverse() };
}
