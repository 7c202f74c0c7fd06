import { z } from "zod";
import { CardError } from "./errors";

/**
 * Longest text an imported card may carry per field, in UTF-16 code units. Cards are
 * written for other frontends and often exceed the limits the API sets for hand-made
 * characters (SillyTavern's Seraphina has a 2 851-char description against the API's
 * 2 000), so imported cards get this wider bound and import whole.
 */
export const CARD_TEXT_MAX = 20_000;
/** Same bound as the `name` column. */
export const CARD_NAME_MAX = 80;
/** `spec` values this codec reads; V3 keeps V2's `data` fields, so both read the same way. */
export const CARD_SPECS = ["chara_card_v2", "chara_card_v3"] as const;

const expected = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : `must be ${what}`),
});
const text = z.string(expected("a string")).max(CARD_TEXT_MAX, `must be at most ${CARD_TEXT_MAX} characters`);
const name = z
  .string(expected("a string"))
  .max(CARD_NAME_MAX, `must be at most ${CARD_NAME_MAX} characters`)
  .refine((value) => value.trim() !== "", "must not be empty");
const textList = z.array(text, expected("an array of strings"));
const jsonObject = z.record(z.string(), z.unknown(), expected("an object"));

/** The fields a V1 card has at the top level and V2/V3 cards have inside `data`. */
const v1Fields = {
  name,
  description: text.optional(),
  personality: text.optional(),
  scenario: text.optional(),
  first_mes: text.optional(),
  mes_example: text.optional(),
};
const V1_KEYS = Object.keys(v1Fields);

const cardV1Schema = z.looseObject(v1Fields);

/** A V2 card's `data`. V3 fields (`assets`, `nickname`, ...) and unknown ones pass untouched. */
const cardDataSchema = z.looseObject(
  {
    ...v1Fields,
    system_prompt: text.optional(),
    tags: textList.optional(),
    creator_notes: text.optional(),
    post_history_instructions: text.optional(),
    creator: text.optional(),
    character_version: text.optional(),
    alternate_greetings: textList.optional(),
    extensions: jsonObject.optional(),
    character_book: z
      .looseObject({ entries: z.array(jsonObject, expected("an array of objects")) }, expected("an object"))
      .optional(),
  },
  expected("an object"),
);
const cardV2Schema = z.looseObject({ data: cardDataSchema });

export type CardData = z.infer<typeof cardDataSchema>;

/** A validated card document in its V2 view. Objects are the caller's, not copies. */
export interface CardDocument {
  version: "v1" | "v2" | "v3";
  /** The document's top-level object. */
  top: Record<string, unknown>;
  /** `data` as received; for a V1 card, its top-level card fields (and `tags`, if a string list). */
  data: CardData;
}

/**
 * Validates a card document (already `JSON.parse`d): V2 (`chara_card_v2`), V3
 * (`chara_card_v3`, whose `data` reads like V2's) or a bare V1 card (no `spec`, fields at
 * the top level).
 *
 * @throws {CardError} naming the first offending field, e.g. `data.tags.2 must be a string`.
 */
export function readCardDocument(doc: unknown): CardDocument {
  if (!isJsonObject(doc)) {
    throw new CardError("card must be a JSON object");
  }
  if (doc.spec === undefined) {
    validate(cardV1Schema, doc);
    return { version: "v1", top: doc, data: v1Data(doc) };
  }
  if (doc.spec !== CARD_SPECS[0] && doc.spec !== CARD_SPECS[1]) {
    throw new CardError(
      `spec must be "${CARD_SPECS[0]}" or "${CARD_SPECS[1]}", not ${JSON.stringify(doc.spec)}`,
      "spec",
    );
  }
  validate(cardV2Schema, doc);
  return {
    version: doc.spec === "chara_card_v3" ? "v3" : "v2",
    top: doc,
    data: doc.data as CardData,
  };
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function v1Data(doc: Record<string, unknown>): CardData {
  const entries = V1_KEYS.filter((key) => Object.hasOwn(doc, key)).map((key) => [key, doc[key]]);
  // V1 has no tags, but SillyTavern writes a top-level list beside its V1 fields.
  if (Array.isArray(doc.tags) && doc.tags.every((tag) => typeof tag === "string")) {
    entries.push(["tags", doc.tags]);
  }
  return Object.fromEntries(entries) as CardData;
}

function validate(schema: z.ZodType, doc: Record<string, unknown>): void {
  const result = schema.safeParse(doc);
  if (result.success) {
    return;
  }
  const [issue] = result.error.issues;
  const path = issue?.path.join(".") ?? "";
  const problem = issue?.message ?? "is invalid";
  throw new CardError(path ? `${path} ${problem}` : `card ${problem}`, path || undefined);
}
