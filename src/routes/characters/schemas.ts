import { z } from "zod";
import { characterBookSchema } from "../../conversation";
import { Id, ListQuery } from "../../http/schemas";

export const CharacterParams = z.object({ id: Id });

const Tag = z.string().trim().min(1).max(32);

const Appearance = z.string().max(1000);

/**
 * A Character Card V2 lorebook, kept as sent (the schema checks its shape; unknown keys stay).
 * Bounded like an imported card's extras (API.md: 256 KiB), which the route checks: a
 * well-formed book over it is 413 `payload_too_large`, as on import, not a 400.
 */
const CharacterBook = z
  .record(z.string(), z.unknown())
  .refine((book) => characterBookSchema.safeParse(book).success, {
    message:
      "must be a Character Card V2 character_book: {entries: [{keys, content, enabled, insertion_order}]}",
  });

/** Editable fields with API.md's limits (hand-made characters; imported cards allow longer text). */
export const CharacterCreate = z
  .object({
    name: z.string().trim().min(1).max(80),
    description: z.string().max(2000).default(""),
    personality: z.string().max(4000).default(""),
    scenario: z.string().max(4000).default(""),
    greeting: z.string().max(2000).default(""),
    system_prompt: z.string().max(4000).default(""),
    example_dialogue: z.string().max(4000).default(""),
    tags: z.array(Tag).max(10).default([]),
    avatar_url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .nullable()
      .default(null),
    is_public: z.boolean().default(false),
    appearance: Appearance.default(""),
    character_book: CharacterBook.nullable().default(null),
  })
  .strict();

export const CharacterPatch = z
  .object({
    name: z.string().trim().min(1).max(80),
    description: z.string().max(2000),
    personality: z.string().max(4000),
    scenario: z.string().max(4000),
    greeting: z.string().max(2000),
    system_prompt: z.string().max(4000),
    example_dialogue: z.string().max(4000),
    tags: z.array(Tag).max(10),
    avatar_url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .nullable(),
    is_public: z.boolean(),
    appearance: Appearance,
    character_book: CharacterBook.nullable(),
  })
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, "send at least one field to change");

export const CharacterSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  personality: z.string(),
  scenario: z.string(),
  greeting: z.string(),
  system_prompt: z.string(),
  example_dialogue: z.string(),
  tags: z.array(z.string()),
  avatar_url: z.string().nullable(),
  is_public: z.boolean(),
  appearance: z.string(),
  character_book: z.record(z.string(), z.unknown()).nullable(),
  owner_id: z.string().nullable(),
  chat_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const CharacterListQuery = ListQuery.extend({
  tag: Tag.optional(),
  q: z.string().trim().min(1).max(100).optional(),
});

export const PopularQuery = z.object({ limit: z.coerce.number().int().min(1).max(50).default(12) });

export const ImportQuery = z.object({
  is_public: z.enum(["true", "false"]).default("false"),
  /** `true` imports a card the caller already imported as a second, separate character. */
  duplicate: z.enum(["true", "false"]).default("false"),
});
