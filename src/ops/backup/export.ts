import { type SQL, sql } from "drizzle-orm";
import type { SqlClient } from "../../db/sql-client";
import { BACKUP_FORMAT, type Manifest } from "./manifest";
import { schemaVersion } from "./schema-version";
import { pickColumns, type Row, TABLES, type TableSpec } from "./tables";

/** Where an export writes its files (`<table>.ndjson`, then `manifest.json`). */
export interface BackupSink {
  /** Writes one file from chunks of UTF-8 text; resolves to the bytes written. */
  write(name: string, chunks: AsyncIterable<string>): Promise<number>;
}

/**
 * Rows per keyset page. 1 000 rows of the widest table (chat messages, characters) are a few
 * MB; D1 allows 1 000 queries per invocation, so one nightly run exports up to ~1 M rows.
 */
export const DEFAULT_PAGE_SIZE = 1000;

const columnList = (table: TableSpec): SQL =>
  sql.join(
    table.columns.map((c) => sql.identifier(c.name)),
    sql`, `,
  );

/**
 * Every row of a table in key order, one page at a time (keyset pagination: each page is an
 * index range scan after the last key, however deep into the table).
 */
export async function* tableRows(
  client: SqlClient,
  table: TableSpec,
  pageSize = DEFAULT_PAGE_SIZE,
): AsyncGenerator<Row> {
  const keys = sql.join(
    table.key.map((k) => sql.identifier(k)),
    sql`, `,
  );
  let after: SQL | null = null;
  for (;;) {
    const where = after ? sql`WHERE (${keys}) > (${after})` : sql``;
    const rows = await client.all<Record<string, unknown>>(
      sql`SELECT ${columnList(table)} FROM ${sql.identifier(table.name)} ${where} ORDER BY ${keys} LIMIT ${pageSize}`,
    );
    for (const row of rows) yield pickColumns(table, row);
    const last = rows[rows.length - 1];
    if (!last || rows.length < pageSize) return;
    after = sql.join(
      table.key.map((k) => sql`${last[k]}`),
      sql`, `,
    );
  }
}

/**
 * Exports every table as NDJSON (`<table>.ndjson`, one JSON object per row), then
 * `manifest.json` with row counts and the schema version. Memory stays at one page plus what
 * the sink buffers, whatever the size of the database.
 *
 * @example
 * const manifest = await exportDatabase(repo.sql, r2BackupSink(env.BACKUPS, "backups/2026-01-20/"));
 */
export async function exportDatabase(
  client: SqlClient,
  sink: BackupSink,
  options: { pageSize?: number; now?: Date } = {},
): Promise<Manifest> {
  const tables: Manifest["tables"] = [];
  for (const table of [...TABLES].reverse()) {
    let rows = 0;
    async function* lines() {
      for await (const row of tableRows(client, table, options.pageSize)) {
        rows += 1;
        yield `${JSON.stringify(row)}\n`;
      }
    }
    const file = `${table.name}.ndjson`;
    const bytes = await sink.write(file, lines());
    tables.unshift({ name: table.name, file, rows, bytes });
  }
  const manifest: Manifest = {
    format: BACKUP_FORMAT,
    created_at: (options.now ?? new Date()).toISOString(),
    source_backend: client.dialect,
    schema_version: await schemaVersion(client),
    tables,
  };
  await sink.write(
    "manifest.json",
    (async function* () {
      yield `${JSON.stringify(manifest, null, 2)}\n`;
    })(),
  );
  return manifest;
}
