import { z } from "zod";

/**
 * The Character Card V2 lorebook (`data.character_book`). Objects are loose: fields of other
 * tools (SillyTavern's `extensions`, V3's `use_regex`, ...) pass through untouched, because the
 * book is imported and exported unchanged.
 */
const jsonObject = z.record(z.string(), z.unknown());

export const characterBookEntrySchema = z.looseObject({
  keys: z.array(z.string()),
  content: z.string(),
  extensions: jsonObject.optional(),
  enabled: z.boolean(),
  insertion_order: z.number(),
  case_sensitive: z.boolean().optional(),
  name: z.string().optional(),
  priority: z.number().optional(),
  id: z.union([z.number(), z.string()]).optional(),
  comment: z.string().optional(),
  selective: z.boolean().optional(),
  secondary_keys: z.array(z.string()).optional(),
  constant: z.boolean().optional(),
  position: z.enum(["before_char", "after_char"]).optional(),
});

export const characterBookSchema = z.looseObject({
  name: z.string().optional(),
  description: z.string().optional(),
  scan_depth: z.number().int().min(0).optional(),
  token_budget: z.number().int().min(0).optional(),
  recursive_scanning: z.boolean().optional(),
  extensions: jsonObject.optional(),
  entries: z.array(characterBookEntrySchema),
});

export type CharacterBookEntry = z.infer<typeof characterBookEntrySchema>;
export type CharacterBook = z.infer<typeof characterBookSchema>;
