import { type SQL, sql } from "drizzle-orm";
import type { SqlClient } from "../../db/sql-client";
import { type Manifest, parseManifest } from "./manifest";
import { ndjsonValues } from "./ndjson";
import { schemaVersion } from "./schema-version";
import { type ColumnSpec, type Row, TABLES, type TableSpec, validateRow } from "./tables";

/** Where a restore reads a backup from (an R2 prefix, a folder). */
export interface BackupSource {
  /** The bytes of one file of the backup, or null when it does not exist. */
  read(name: string): Promise<ReadableStream<Uint8Array> | null>;
}

export interface TableReport {
  table: string;
  /** Rows in the backup file. */
  rows: number;
  inserted: number;
  /** Already present (same primary key): left as they are, which makes a restore idempotent. */
  existing: number;
  /** Skipped because the row they belong to (user, character) is in neither the backup nor the target. */
  orphans: number;
}

export interface RestoreReport {
  source_schema_version: string | null;
  target_schema_version: string | null;
  tables: TableReport[];
}

/**
 * D1 binds at most 100 parameters per statement; PostgreSQL 65 535. Each statement inserts
 * as many rows as fit (at most 500).
 */
const MAX_PARAMS = { sqlite: 100, postgres: 30_000 } as const;
const MAX_ROWS_PER_STATEMENT = 500;

/** A parameter as the target column expects it (PostgreSQL cannot always infer a type). */
function param(client: SqlClient, column: ColumnSpec, value: string | number | null): SQL {
  if (client.dialect === "sqlite") return sql`${value}`;
  const type =
    column.kind === "time"
      ? sql.raw("timestamptz")
      : column.kind === "integer"
        ? sql.raw("integer")
        : sql.raw("text");
  return sql`CAST(${value} AS ${type})`;
}

function columnList(table: TableSpec): SQL {
  return sql.join(
    table.columns.map((c) => sql.identifier(c.name)),
    sql`, `,
  );
}

function valuesOf(client: SqlClient, table: TableSpec, row: Row): SQL {
  return sql.join(
    table.columns.map((c) => param(client, c, row[c.name] ?? null)),
    sql`, `,
  );
}

/** One statement for many rows; existing keys are left alone. */
function insertMany(client: SqlClient, table: TableSpec, rows: Row[]): SQL {
  const tuples = sql.join(
    rows.map((row) => sql`(${valuesOf(client, table, row)})`),
    sql`, `,
  );
  return sql`INSERT INTO ${sql.identifier(table.name)} (${columnList(table)}) VALUES ${tuples} ON CONFLICT DO NOTHING`;
}

/** One row, inserted only when its parent row exists (the WHERE also settles SQLite's upsert parsing). */
function insertIfParent(client: SqlClient, table: TableSpec, row: Row): SQL {
  const parent = table.parent;
  if (!parent) return insertMany(client, table, [row]);
  const parentValue = row[parent.column] ?? null;
  const exists = sql`EXISTS (SELECT 1 FROM ${sql.identifier(parent.table)} WHERE id = ${parentValue})`;
  const guard = parent.nullable ? sql`(CAST(${parentValue} AS TEXT) IS NULL OR ${exists})` : exists;
  return sql`INSERT INTO ${sql.identifier(table.name)} (${columnList(table)})
             SELECT ${valuesOf(client, table, row)} WHERE ${guard} ON CONFLICT DO NOTHING`;
}

/**
 * Inserts one chunk. Fast path: one multi-row statement. When it fails (a row whose parent is
 * missing violates a foreign key and takes the statement with it), the chunk goes again row
 * by row, each guarded by its parent's existence: orphans are skipped and counted, and any
 * other failure is a real error.
 */
async function insertChunk(
  client: SqlClient,
  table: TableSpec,
  rows: Row[],
): Promise<{ inserted: number; orphans: number }> {
  try {
    return { inserted: await client.run(insertMany(client, table, rows)), orphans: 0 };
  } catch (error) {
    if (!table.parent) throw error;
  }
  let inserted = 0;
  let orphans = 0;
  for (const row of rows) {
    const changed = await client.run(insertIfParent(client, table, row));
    if (changed > 0) {
      inserted += changed;
      continue;
    }
    const key = table.key.map((k) => sql`${sql.identifier(k)} = ${row[k] ?? null}`);
    const present = await client.all(
      sql`SELECT 1 AS present FROM ${sql.identifier(table.name)} WHERE ${sql.join(key, sql` AND `)}`,
    );
    if (present.length === 0) orphans += 1;
  }
  return { inserted, orphans };
}

/**
 * Loads one table's NDJSON into `client`: every line validated against the table's columns
 * (a bad line stops the restore, naming table, line and column), inserted in chunks with
 * ON CONFLICT DO NOTHING.
 */
export async function restoreTable(
  client: SqlClient,
  table: TableSpec,
  stream: ReadableStream<Uint8Array>,
  onProgress?: (table: string, rows: number) => void,
): Promise<TableReport> {
  const perStatement = Math.max(
    1,
    Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_PARAMS[client.dialect] / (table.columns.length + 1))),
  );
  const report: TableReport = { table: table.name, rows: 0, inserted: 0, existing: 0, orphans: 0 };
  let chunk: Row[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const result = await insertChunk(client, table, chunk);
    report.inserted += result.inserted;
    report.orphans += result.orphans;
    chunk = [];
    onProgress?.(table.name, report.rows);
  };
  for await (const { value, line } of ndjsonValues(stream)) {
    chunk.push(validateRow(table, value, line));
    report.rows += 1;
    if (chunk.length >= perStatement) await flush();
  }
  await flush();
  report.existing = report.rows - report.inserted - report.orphans;
  return report;
}

/**
 * Loads a whole backup (manifest first, then every table parents-first) into a database of
 * either dialect through the same `SqlClient` the service uses. Idempotent: running it twice,
 * or onto a database that already holds some of the rows, inserts only what is missing.
 * The target must already have the schema (run its migrations first).
 *
 * @example
 * const report = await restoreDatabase(postgresClient(url), r2BackupSource(env.BACKUPS, "backups/2026-01-20/"));
 */
export async function restoreDatabase(
  client: SqlClient,
  source: BackupSource,
  options: { onProgress?: (table: string, rows: number) => void } = {},
): Promise<RestoreReport> {
  const manifest = await readManifest(source);
  const report: RestoreReport = {
    source_schema_version: manifest.schema_version,
    target_schema_version: await schemaVersion(client),
    tables: [],
  };
  for (const table of TABLES) {
    const entry = manifest.tables.find((t) => t.name === table.name);
    if (!entry) throw new Error(`the backup has no ${table.name} table`);
    const stream = await source.read(entry.file);
    if (!stream) throw new Error(`the backup lists ${entry.file} but it is missing`);
    const result = await restoreTable(client, table, stream, options.onProgress);
    if (result.rows !== entry.rows) {
      throw new Error(`${entry.file} holds ${result.rows} rows, the manifest says ${entry.rows}`);
    }
    report.tables.push(result);
  }
  return report;
}

export async function readManifest(source: BackupSource): Promise<Manifest> {
  const stream = await source.read("manifest.json");
  if (!stream) throw new Error("the backup has no manifest.json (an export that did not finish?)");
  const text = await new Response(stream).text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error("manifest.json is not valid JSON");
  }
  return parseManifest(value);
}
