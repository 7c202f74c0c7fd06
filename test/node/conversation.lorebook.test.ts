import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { extractCardFromPng, parseCard } from "../../src/cards";
import { type CharacterBook, characterBookSchema } from "../../src/conversation/character-book";
import { regexOfKey } from "../../src/conversation/key-matcher";
import { activateLore } from "../../src/conversation/lorebook";

/** Seraphina's real lorebook ("Eldoria"): 0 eldoria/forest, 1 shadowfang/beast, 2 glade/refuge, 3 power/magic. */
let seraphinaBook: CharacterBook;

beforeAll(async () => {
  const png = new Uint8Array(readFileSync(new URL("../fixtures/cards/seraphina.png", import.meta.url)));
  const doc = (await extractCardFromPng(png)) as { data: { character_book: unknown } };
  parseCard(doc); // the card imports as any other
  seraphinaBook = characterBookSchema.parse(doc.data.character_book);
});

/** A copy of the real book with some entries changed. */
function book(
  changes: Record<number, Record<string, unknown>> = {},
  top: Partial<CharacterBook> = {},
): CharacterBook {
  const copy = structuredClone(seraphinaBook);
  for (const [index, change] of Object.entries(changes)) {
    Object.assign(copy.entries[Number(index)] as object, change);
  }
  return { ...copy, ...top };
}

const said = (...contents: string[]) => contents.map((content) => ({ content }));
const firedIndexes = (b: CharacterBook, messages: { content: string }[], budgetChars?: number) =>
  activateLore(b, messages, { budgetChars }).fired.map((f) => f.index);

describe("lorebook activation on Seraphina's card", () => {
  it("reads the real book: four enabled, keyed entries", () => {
    expect(seraphinaBook.name).toBe("Eldoria");
    expect(seraphinaBook.entries.map((e) => e.keys[0])).toEqual(["eldoria", "shadowfang", "glade", "power"]);
    expect(activateLore(seraphinaBook, said("Hello there.")).fired).toEqual([]);
  });

  it("fires an entry when one of its keys occurs, and only that entry", () => {
    const lore = activateLore(seraphinaBook, said("Where am I?", "Tell me about the shadowfang."));
    expect(lore.fired).toEqual([{ index: 1, name: null }]);
    expect(lore.before[0]?.content).toContain("The Shadowfangs are beasts of darkness");
  });

  it("matches keys as substrings, as SillyTavern does by default", () => {
    // "magical" holds "magic" (entry 3); "forests" holds "forest" (entry 0).
    expect(firedIndexes(seraphinaBook, said("Such a magical place."))).toEqual([3]);
    expect(firedIndexes(seraphinaBook, said("Dark forests."))).toEqual([0]);
  });

  it("matches whole words only when the entry's extensions.match_whole_words says so", () => {
    const b = book({ 3: { extensions: { match_whole_words: true } } });
    expect(firedIndexes(b, said("Such a magical place."))).toEqual([]);
    expect(firedIndexes(b, said("Is it magic?"))).toEqual([3]);
  });

  it("matches case-insensitively unless the entry is case_sensitive", () => {
    expect(firedIndexes(seraphinaBook, said("ELDORIA!"))).toEqual([0]);
    const b = book({ 0: { case_sensitive: true, keys: ["Eldoria"] } });
    expect(firedIndexes(b, said("ELDORIA!"))).toEqual([]);
    expect(firedIndexes(b, said("eldoria!"))).toEqual([]);
    expect(firedIndexes(b, said("Eldoria!"))).toEqual([0]);
  });

  it("treats /pattern/flags keys as regular expressions", () => {
    const b = book({ 1: { keys: ["/shadow-?fangs?\\b/i"] } });
    expect(firedIndexes(b, said("A SHADOW-FANG howls."))).toEqual([1]);
    expect(firedIndexes(b, said("shadowy fangs"))).toEqual([]);
  });

  it("refuses catastrophic-backtracking and overlong regex keys (they are plain text)", () => {
    expect(regexOfKey("/(a+)+$/")).toBeNull();
    expect(regexOfKey(`/${"a".repeat(250)}/`)).toBeNull();
    expect(regexOfKey("/glade|refuge/i")).toBeInstanceOf(RegExp);
    const b = book({ 2: { keys: ["/(a+)+$/"] } });
    expect(firedIndexes(b, said(`${"a".repeat(40)}!`))).toEqual([]);
  });

  it("scans only the last scan_depth messages (default 4)", () => {
    const history = said("I saw a beast.", "one", "two", "three", "four");
    expect(firedIndexes(seraphinaBook, history)).toEqual([]);
    expect(firedIndexes(seraphinaBook, history.slice(0, 4))).toEqual([1]);
    expect(firedIndexes(book({}, { scan_depth: 5 }), history)).toEqual([1]);
    expect(firedIndexes(book({}, { scan_depth: 0 }), said("beast"))).toEqual([]);
  });

  it("always fires a constant entry, keys or not", () => {
    const b = book({ 3: { constant: true } });
    expect(firedIndexes(b, said("Hello there."))).toEqual([3]);
    expect(firedIndexes(b, [])).toEqual([3]);
  });

  it("fires a selective entry only with a primary and a secondary key", () => {
    const b = book({ 1: { selective: true, secondary_keys: ["night", "moon"] } });
    expect(firedIndexes(b, said("A beast!"))).toEqual([]);
    expect(firedIndexes(b, said("The night is quiet."))).toEqual([]);
    expect(firedIndexes(b, said("A beast, under the moon."))).toEqual([1]);
    // Not selective: the secondary keys are ignored.
    expect(firedIndexes(book({ 1: { secondary_keys: ["night"] } }), said("A beast!"))).toEqual([1]);
  });

  it("never fires a disabled entry, not even a constant one", () => {
    const b = book({ 0: { enabled: false }, 3: { enabled: false, constant: true } });
    expect(firedIndexes(b, said("The forest and its magic."))).toEqual([]);
    expect(firedIndexes(seraphinaBook, said("The forest and its magic."))).toEqual([0, 3]);
  });

  it("puts active entries in by insertion_order, then book order", () => {
    const all = said("forest, beast, glade, magic");
    expect(firedIndexes(seraphinaBook, all)).toEqual([0, 1, 2, 3]);
    const b = book({ 0: { insertion_order: 30 }, 1: { insertion_order: 10 }, 2: { insertion_order: 20 } });
    expect(firedIndexes(b, all)).toEqual([1, 2, 0, 3]);
  });

  it("splits entries by position: before_char by default, after_char apart", () => {
    const b = book({ 2: { position: "after_char" } });
    const lore = activateLore(b, said("forest, glade, magic"));
    expect(lore.before.map((e) => e.index)).toEqual([0, 3]);
    expect(lore.after.map((e) => e.index)).toEqual([2]);
    const { position: _unset, ...noPosition } = seraphinaBook.entries[0] as Record<string, unknown>;
    const c = book();
    c.entries[0] = noPosition as CharacterBook["entries"][number];
    expect(activateLore(c, said("forest")).before.map((e) => e.index)).toEqual([0]);
  });

  it("keeps within token_budget (4 characters a token), dropping the lowest priority first", () => {
    const lengths = seraphinaBook.entries.map((e) => e.content.length);
    const all = said("forest, beast, glade, magic");
    // Room for entries 0 and 2 only; priorities rank 2 > 0 > 3 > 1.
    const roomFor = (...indexes: number[]) =>
      Math.ceil(indexes.reduce((s, i) => s + (lengths[i] ?? 0), 0) / 4);
    const ranked = { 0: { priority: 5 }, 1: { priority: 1 }, 2: { priority: 9 }, 3: { priority: 3 } };
    const lore = activateLore(book(ranked, { token_budget: roomFor(0, 2) }), all);
    expect(lore.fired.map((f) => f.index)).toEqual([0, 2]);
    expect(lore.dropped.map((f) => f.index)).toEqual([1, 3]);
    expect(lore.chars).toBeLessThanOrEqual(roomFor(0, 2) * 4);
    // Other priorities, other survivors.
    const flipped = { 0: { priority: 1 }, 1: { priority: 9 }, 2: { priority: 2 }, 3: { priority: 8 } };
    expect(firedIndexes(book(flipped, { token_budget: roomFor(1, 3) }), all)).toEqual([1, 3]);
    // No budget: all four.
    expect(firedIndexes(book(ranked), all)).toEqual([0, 1, 2, 3]);
  });

  it("drops by priority under the caller's budget too, the smaller budget winning", () => {
    const lengths = seraphinaBook.entries.map((e) => e.content.length);
    const ranked = book({ 0: { priority: 5 }, 1: { priority: 1 }, 2: { priority: 9 }, 3: { priority: 3 } });
    const all = said("forest, beast, glade, magic");
    expect(firedIndexes(ranked, all, (lengths[2] ?? 0) + 1)).toEqual([2]);
    expect(firedIndexes({ ...ranked, token_budget: 1_000_000 }, all, 0)).toEqual([]);
  });

  it("names fired entries by name, else comment, else null", () => {
    const b = book({ 0: { name: "Eldoria" }, 1: { comment: "Shadowfangs" } });
    expect(activateLore(b, said("forest beast glade")).fired).toEqual([
      { index: 0, name: "Eldoria" },
      { index: 1, name: "Shadowfangs" },
      { index: 2, name: null },
    ]);
  });

  it("scans fired content again with recursive_scanning", () => {
    // Entry 1's content mentions "forest" (entry 0's key) and "magic" (entry 3's).
    expect(firedIndexes(seraphinaBook, said("beast"))).toEqual([1]);
    expect(firedIndexes(book({}, { recursive_scanning: true }), said("beast"))).toEqual([0, 1, 2, 3]);
  });

  it("skips a malformed entry instead of failing the turn", () => {
    const b = book();
    (b.entries as unknown[]).push({ keys: "beast", content: 7 });
    expect(firedIndexes(b, said("beast"))).toEqual([1]);
    expect(activateLore(null, said("beast")).fired).toEqual([]);
  });
});
