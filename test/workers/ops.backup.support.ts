import { sql } from "drizzle-orm";
import { expect } from "vitest";
import type { SqlClient } from "../../src/db/sql-client";
import { tableRows } from "../../src/ops/backup/export";
import { type Row, TABLES, type TableSpec } from "../../src/ops/backup/tables";

export type Dump = Map<string, Map<string, Row>>;

export function keyOf(table: TableSpec, row: Row): string {
  return JSON.stringify(
    table.key.map((k) => (table.columns.find((c) => c.name === k)?.kind === "time" ? iso(row[k]) : row[k])),
  );
}

function iso(value: unknown): unknown {
  return typeof value === "string" ? new Date(value).toISOString() : value;
}

/** A row compared across backends: times as one ISO format, integers as numbers. */
export function normalised(table: TableSpec, row: Row): Row {
  const out: Row = {};
  for (const column of table.columns) {
    const value = row[column.name] ?? null;
    out[column.name] =
      value === null
        ? null
        : column.kind === "time"
          ? (iso(value) as string)
          : column.kind === "integer"
            ? Number(value)
            : value;
  }
  return out;
}

/** Every row of every backed-up table, by key. */
export async function dump(client: SqlClient): Promise<Dump> {
  const all: Dump = new Map();
  for (const table of TABLES) {
    const rows = new Map<string, Row>();
    for await (const row of tableRows(client, table)) rows.set(keyOf(table, row), normalised(table, row));
    all.set(table.name, rows);
  }
  return all;
}

/** Parses one NDJSON file into rows. */
export function parseNdjson(text: string): Row[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Row);
}

/**
 * Checks that every exported row is in the target after the restore, equal column for
 * column, unless the target held a row with that key before (a restore never overwrites).
 * Returns how many rows were compared per table.
 */
export function expectRestored(
  exported: Map<string, Row[]>,
  before: Dump,
  after: Dump,
  orphansAllowed = false,
): Record<string, { compared: number; preexisting: number; missing: number }> {
  const summary: Record<string, { compared: number; preexisting: number; missing: number }> = {};
  for (const table of TABLES) {
    const rows = exported.get(table.name) ?? [];
    const had = before.get(table.name) ?? new Map();
    const has = after.get(table.name) ?? new Map();
    const s = { compared: 0, preexisting: 0, missing: 0 };
    for (const row of rows) {
      const key = keyOf(table, row);
      if (had.has(key)) {
        s.preexisting += 1;
        continue;
      }
      const restored = has.get(key);
      if (!restored && orphansAllowed) {
        s.missing += 1;
        continue;
      }
      expect(restored, `${table.name} ${key}`).toEqual(normalised(table, row));
      s.compared += 1;
    }
    summary[table.name] = s;
  }
  return summary;
}

/** The live columns of a table, in order. */
export async function liveColumns(client: SqlClient, table: string): Promise<string[]> {
  if (client.dialect === "sqlite") {
    const rows = await client.all<{ name: string }>(
      sql`SELECT name FROM pragma_table_info(${table}) ORDER BY cid`,
    );
    return rows.map((r) => r.name);
  }
  const rows = await client.all<{ column_name: string }>(
    sql`SELECT column_name FROM information_schema.columns WHERE table_name = ${table} AND table_schema = current_schema()
        ORDER BY ordinal_position`,
  );
  return rows.map((r) => r.column_name);
}
