import { z } from "zod";
import { TABLES } from "./tables";

export const BACKUP_FORMAT = "edge-art-backup/1";

const TableEntry = z.object({
  name: z.enum(TABLES.map((t) => t.name) as [string, ...string[]]),
  file: z.string().regex(/^[a-z_]+\.ndjson$/),
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
});

/** `manifest.json`: written last, so a backup folder without one is incomplete. */
export const Manifest = z.object({
  format: z.literal(BACKUP_FORMAT),
  created_at: z.string(),
  source_backend: z.enum(["sqlite", "postgres"]),
  /** The last migration applied to the source (`0002_sample_characters`), null when unknown. */
  schema_version: z.string().nullable(),
  tables: z.array(TableEntry),
});
export type Manifest = z.infer<typeof Manifest>;

/** The manifest of a backup, validated; throws naming what is wrong. */
export function parseManifest(value: unknown): Manifest {
  const parsed = Manifest.safeParse(value);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join(".") || "(root)").join(", ");
    throw new Error(`manifest.json is not an ${BACKUP_FORMAT} manifest (${where})`);
  }
  return parsed.data;
}
