/**
 * The backup core as the Node scripts load it (scripts/lib/ops-core.mjs bundles this entry):
 * the same export and restore the Worker runs, over the same `SqlClient` adapters.
 */
export { d1Client } from "../../db/d1-client";
export { postgresClient } from "../../db/postgres-client";
export { type BackupSink, DEFAULT_PAGE_SIZE, exportDatabase, tableRows } from "./export";
export { BACKUP_FORMAT, type Manifest, parseManifest } from "./manifest";
export { type BackupSource, readManifest, type RestoreReport, restoreDatabase } from "./restore";
export { schemaVersion } from "./schema-version";
export { TABLES } from "./tables";
