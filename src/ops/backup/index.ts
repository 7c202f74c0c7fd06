/**
 * The backup core as the Node scripts load it (scripts/lib/ops-core.mjs bundles this entry):
 * the same export and restore the Worker runs, over the same `SqlClient` adapters.
 */
import { postgresClient } from "../../db/postgres-client";
import type { SqlClient } from "../../db/sql-client";

export { d1Client } from "../../db/d1-client";
export { type BackupSink, DEFAULT_PAGE_SIZE, exportDatabase, tableRows } from "./export";
export { BACKUP_FORMAT, type Manifest, parseManifest } from "./manifest";
export { r2BackupSink, r2BackupSource } from "./r2";
export { type BackupSource, type RestoreReport, readManifest, restoreDatabase } from "./restore";
export { schemaVersion } from "./schema-version";
export { TABLES } from "./tables";

/**
 * `postgresClient` for a Node process: besides `close()`, the connection closes itself after
 * 1 s idle (`idle_timeout=1`), so a script whose last query is done can exit without waiting.
 */
export function postgresNodeClient(url: string): SqlClient {
  const parsed = new URL(url);
  if (!parsed.searchParams.has("idle_timeout")) parsed.searchParams.set("idle_timeout", "1");
  return postgresClient(parsed.toString());
}
