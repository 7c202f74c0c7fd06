import type { Config } from "../../config";
import { openRepository } from "../../db/repository";
import { log } from "../log";
import { exportDatabase } from "./export";
import type { Manifest } from "./manifest";
import { r2BackupSink } from "./r2";

/** `backups/<YYYY-MM-DD>/`: one folder per day (UTC); a second run the same day overwrites it. */
export function backupPrefix(at: Date): string {
  return `backups/${at.toISOString().slice(0, 10)}/`;
}

/**
 * The nightly export of every table to the `BACKUPS` bucket (`backups/<date>/<table>.ndjson`
 * and `manifest.json`), from whichever backend `DB_BACKEND` selects. Old days are removed by
 * an R2 lifecycle rule on the prefix, not here (docs/operations.md).
 */
export async function runBackup(
  env: Env,
  config: Pick<Config, "DB_BACKEND">,
  at = new Date(),
): Promise<{ prefix: string; manifest: Manifest }> {
  // Never fall back to the images bucket: it may be public behind a CDN domain.
  if (!env.BACKUPS) throw new Error("the BACKUPS R2 bucket is not bound; no backup was written");
  const prefix = backupPrefix(at);
  const repo = openRepository(env, config);
  const started = Date.now();
  try {
    const manifest = await exportDatabase(repo.sql, r2BackupSink(env.BACKUPS, prefix), { now: at });
    log.info("backup written", {
      prefix,
      backend: manifest.source_backend,
      schema_version: manifest.schema_version,
      rows: Object.fromEntries(manifest.tables.map((t) => [t.name, t.rows])),
      duration_ms: Date.now() - started,
    });
    return { prefix, manifest };
  } finally {
    await repo.sql.close();
  }
}
