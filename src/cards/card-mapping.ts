import { characterBookSchema } from "../conversation/character-book";
import {
  type CardExtras,
  type ImportedExtras,
  MIRROR_KEYS,
  type MirrorKey,
  readImportedExtras,
} from "./card-extras";
import { readCardDocument } from "./card-v2";
import { isSameJson, isStringList, omit, ordered } from "./json";
import { cardTooLarge, exceedsUtf8Bytes, MAX_CARD_EXTRAS_BYTES } from "./limits";
import { normalizeTags } from "./tags";

/** A card's values for the character's columns. */
export interface CharacterCardFields {
  name: string;
  description: string;
  personality: string;
  scenario: string;
  greeting: string;
  system_prompt: string;
  example_dialogue: string;
  tags: string[];
  /** `data.character_book`, kept in its own column (absent or null: none there; parseCard sets it only for a valid book). */
  character_book?: Record<string, unknown> | null;
}

type TextColumn = Exclude<keyof CharacterCardFields, "tags">;

/** Card `data` text fields held in a column, and that column. */
const TEXT_COLUMNS = {
  name: "name",
  description: "description",
  personality: "personality",
  scenario: "scenario",
  first_mes: "greeting",
  mes_example: "example_dialogue",
  system_prompt: "system_prompt",
} as const satisfies Record<string, TextColumn>;
type TextKey = keyof typeof TEXT_COLUMNS;
const TEXT_KEYS = Object.keys(TEXT_COLUMNS) as TextKey[];

/** Keys regenerated on every export rather than kept. */
const ENVELOPE_KEYS = ["spec", "spec_version", "data"];

/** `data` of a card made by hand, in the order SillyTavern writes it. */
function freshData(fields: CharacterCardFields): Record<string, unknown> {
  return {
    name: fields.name,
    description: fields.description,
    personality: fields.personality,
    scenario: fields.scenario,
    first_mes: fields.greeting,
    mes_example: fields.example_dialogue,
    creator_notes: "",
    system_prompt: fields.system_prompt,
    post_history_instructions: "",
    alternate_greetings: [],
    tags: [...fields.tags],
    creator: "",
    character_version: "",
    extensions: {},
    ...(fields.character_book ? { character_book: structuredClone(fields.character_book) } : {}),
  };
}

/**
 * Splits a card document (already `JSON.parse`d) into column values and extras. Accepts V2
 * (`chara_card_v2`), V3 (`chara_card_v3`, `data` read the same way) and bare V1 cards
 * (top-level `name`, `description`, `first_mes`, ...). Text is kept byte for byte (CRLF,
 * `{{char}}` macros); text fields may hold up to 20 000 chars (see `CARD_TEXT_MAX`).
 * Missing text fields become "", and `tags` keeps the first 10 usable tags (see
 * `normalizeTags`).
 *
 * @throws {CardError} naming the offending field, e.g. `data.first_mes must be a string`;
 * {ApiError} 413 when the extras are over `MAX_CARD_EXTRAS_BYTES`.
 * @example
 * const { fields, extras } = parseCard(JSON.parse(body));
 * buildCard(fields, extras); // deep-equals the document parsed
 */
export function parseCard(doc: unknown): { fields: CharacterCardFields; extras: CardExtras } {
  const card = readCardDocument(doc);
  const { data, top } = card;
  const fields: CharacterCardFields = {
    name: data.name,
    description: data.description ?? "",
    personality: data.personality ?? "",
    scenario: data.scenario ?? "",
    greeting: data.first_mes ?? "",
    system_prompt: data.system_prompt ?? "",
    example_dialogue: data.mes_example ?? "",
    tags: normalizeTags(data.tags ?? []),
  };
  // A valid lorebook moves to its column (the prompt reads it there, PATCH edits it); anything
  // else under that key stays an extra and comes back unchanged.
  const book = card.version === "v1" ? undefined : data.character_book;
  const movesBook = book !== undefined && characterBookSchema.safeParse(book).success;
  if (movesBook) fields.character_book = structuredClone(book) as Record<string, unknown>;
  const dataExtras = omit(data, TEXT_KEYS);
  const mirrors = MIRROR_KEYS.filter(
    (key) => Object.hasOwn(top, key) && isSameJson(top[key], mirroredValue(key, fields, data.tags)),
  );
  const extras: ImportedExtras = {
    card_format: 1,
    source: card.version,
    top: omit(top, card.version === "v1" ? mirrors : [...mirrors, ...ENVELOPE_KEYS]),
    data: movesBook ? omit(dataExtras, ["character_book"]) : dataExtras,
    mirrors,
    order: { top: Object.keys(top), data: card.version === "v1" ? [] : Object.keys(data) },
  };
  // Extras are opaque JSON kept per character: bounded, as the columns are.
  // The book counts too, wherever it is kept.
  if (exceedsUtf8Bytes(JSON.stringify({ top: extras.top, data: dataExtras }), MAX_CARD_EXTRAS_BYTES)) {
    throw cardTooLarge(
      `The card's fields beyond the ones this API stores (extensions included) exceed ${MAX_CARD_EXTRAS_BYTES} bytes.`,
    );
  }
  return { fields, extras: structuredClone(extras) };
}

/**
 * Rebuilds the V2 card from the current column values and the extras kept at import.
 * Column edits show in `data` and in the V1 top-level mirrors; everything else comes back
 * as imported, in the original key order. The result is always labelled `chara_card_v2`
 * 2.0: a V3 card keeps its V3-only `data` fields, which V2 readers ignore. Without extras
 * (a character made by hand) the result is a clean V2 card.
 *
 * @throws {CardError} (path `card_extras`) when `extras` is not what `parseCard` produced.
 * @example
 * return c.json(buildCard(columnsOf(character), character.card_extras));
 */
export function buildCard(fields: CharacterCardFields, extras: CardExtras | null): Record<string, unknown> {
  if (extras === null) {
    return { spec: "chara_card_v2", spec_version: "2.0", data: freshData(fields) };
  }
  const stored = readImportedExtras(extras);
  const data = buildData(fields, stored);
  const top = new Map(Object.entries(stored.top));
  for (const key of stored.mirrors) {
    top.set(key, mirroredValue(key, fields, data.tags));
  }
  top.set("spec", "chara_card_v2");
  top.set("spec_version", "2.0");
  top.set("data", data);
  return ordered(top, stored.order.top);
}

function buildData(fields: CharacterCardFields, stored: ImportedExtras): Record<string, unknown> {
  const fromV1 = stored.source === "v1";
  const values = new Map(Object.entries(fromV1 ? { ...freshData(fields), ...stored.data } : stored.data));
  const imported = new Set(stored.order.data);
  // A field the card lacked stays absent unless an edit gave it a value.
  const keep = (key: string, isEmpty: boolean) => fromV1 || imported.has(key) || !isEmpty;
  for (const key of TEXT_KEYS) {
    const value = fields[TEXT_COLUMNS[key]];
    if (keep(key, value === "")) {
      values.set(key, value);
    }
  }
  // The column's book (moved there at import, or set since); none there leaves any kept extra.
  if (fields.character_book) {
    values.set("character_book", structuredClone(fields.character_book));
  }
  const tags = exportedTags(fields.tags, stored.data.tags);
  if (keep("tags", tags.length === 0)) {
    values.set("tags", tags);
  } else {
    values.delete("tags");
  }
  return ordered(values, fromV1 ? Object.keys(freshData(fields)) : stored.order.data);
}

/** The card's own tag list while the column still shows its normalised form; the column once edited. */
function exportedTags(column: readonly string[], imported: unknown): string[] {
  if (isStringList(imported) && isSameJson(normalizeTags(imported), column)) {
    return imported;
  }
  return [...column];
}

function mirroredValue(key: MirrorKey, fields: CharacterCardFields, tags: unknown): unknown {
  if (key === "tags") {
    return Array.isArray(tags) ? [...tags] : tags;
  }
  return fields[TEXT_COLUMNS[key]];
}
