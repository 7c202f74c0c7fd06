import { z } from "zod";
import { CardError } from "./errors";

/** Everything of an imported card the columns do not hold. JSON; opaque to the rest of the app. */
export type CardExtras = Record<string, unknown>;

/** Keys a card may repeat at its top level as a V1 mirror of its `data`. */
export const MIRROR_KEYS = [
  "name",
  "description",
  "personality",
  "scenario",
  "first_mes",
  "mes_example",
  "system_prompt",
  "tags",
] as const;
export type MirrorKey = (typeof MIRROR_KEYS)[number];

/**
 * Layout of `CardExtras` for an imported card. Key order is recorded apart from the
 * objects because JSON columns (PostgreSQL `jsonb`) do not keep it.
 */
const importedExtrasSchema = z.object({
  card_format: z.literal(1),
  source: z.enum(["v1", "v2", "v3"]),
  /** Top-level fields other than the envelope (`spec`, `spec_version`, `data`) and the mirrors. */
  top: z.record(z.string(), z.unknown()),
  /** `data` fields without a column, plus the card's own `tags` list. */
  data: z.record(z.string(), z.unknown()),
  /** Top-level keys that mirrored `data` at import; export writes them from the columns. */
  mirrors: z.array(z.enum(MIRROR_KEYS)),
  order: z.object({ top: z.array(z.string()), data: z.array(z.string()) }),
});
export type ImportedExtras = z.infer<typeof importedExtrasSchema>;

/**
 * Checks stored extras against the layout `parseCard` writes and returns a private copy.
 * The copy is of the input, not zod's output, so that keys are never reassigned.
 *
 * @throws {CardError} with path `card_extras` for anything else.
 */
export function readImportedExtras(extras: CardExtras): ImportedExtras {
  if (!importedExtrasSchema.safeParse(extras).success) {
    throw new CardError("card_extras is not a record kept by parseCard", "card_extras");
  }
  return structuredClone(extras) as ImportedExtras;
}
