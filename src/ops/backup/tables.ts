import { type ColumnKind, columnsOf, primaryKeyOf } from "../../db/schema/declare";
import { SCHEMA } from "../../db/schema/tables";

export type { ColumnKind };

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  nullable?: boolean;
  /** Filled in when a row leaves the column out: a backup taken before the column was added. */
  default?: string | number;
}

export interface TableSpec {
  name: string;
  /** Unique, non-null columns: keyset order of the export pages. */
  key: readonly string[];
  columns: readonly ColumnSpec[];
  /** A foreign key: rows whose parent is missing are skipped (and counted) by a restore. */
  parent?: { column: string; table: string; nullable?: boolean };
}

/**
 * The tables a backup holds: every table of the schema declaration (src/db/schema/tables.ts),
 * with its columns, their kinds and nullability from there too. Listed parents first, as
 * declared: the order a restore inserts in. An export reads them in reverse (children first):
 * the export is not one snapshot, and a child read before its parent almost always finds
 * that parent still there. The key is PostgreSQL's primary key (a partitioned table's
 * includes its partition column), unique on D1 too.
 */
export const TABLES: readonly TableSpec[] = Object.entries(SCHEMA).map(([name, declaration]) => {
  const columns = columnsOf(declaration);
  const foreign = columns.find(([, column]) => column.options.references);
  return {
    name,
    key: primaryKeyOf(declaration, "postgres"),
    columns: columns.map(([column, { kind, options }]) => ({
      name: column,
      kind,
      nullable: !options.notNull,
      ...(options.default !== undefined ? { default: options.default } : {}),
    })),
    ...(foreign?.[1].options.references
      ? {
          parent: {
            column: foreign[0],
            table: foreign[1].options.references.table,
            nullable: !foreign[1].options.notNull,
          },
        }
      : {}),
  };
});

export type Row = Record<string, string | number | null>;

/** Why a backup row cannot be restored; names the table, line and column, never the value. */
export class BackupRowError extends Error {
  constructor(table: string, line: number, problem: string) {
    super(`${table}.ndjson line ${line}: ${problem}`);
    this.name = "BackupRowError";
  }
}

/**
 * Checks one parsed NDJSON value against the table: an object with exactly the table's
 * columns, each of its kind (text, integer, ISO time), null only where the column allows.
 * A column the row leaves out takes its declared default, so a backup taken before a
 * migration added columns still restores.
 */
export function validateRow(table: TableSpec, value: unknown, line: number): Row {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BackupRowError(table.name, line, "not a JSON object");
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!table.columns.some((column) => column.name === key)) {
      throw new BackupRowError(table.name, line, `unknown column ${JSON.stringify(key.slice(0, 64))}`);
    }
  }
  const row: Row = {};
  for (const column of table.columns) {
    const cell = input[column.name];
    if (cell === undefined && column.default !== undefined) {
      row[column.name] = column.default;
      continue;
    }
    if (cell === null || cell === undefined) {
      if (!column.nullable) throw new BackupRowError(table.name, line, `${column.name} is missing`);
      row[column.name] = null;
      continue;
    }
    const ok =
      column.kind === "integer"
        ? typeof cell === "number" && Number.isSafeInteger(cell)
        : typeof cell === "string" && (column.kind === "text" || Number.isFinite(Date.parse(cell)));
    if (!ok) throw new BackupRowError(table.name, line, `${column.name} is not a valid ${column.kind}`);
    row[column.name] = cell as string | number;
  }
  return row;
}

/** A row as the backup writes it: the table's columns, in order (time values exactly as stored). */
export function pickColumns(table: TableSpec, source: Record<string, unknown>): Row {
  const row: Row = {};
  for (const column of table.columns) {
    const cell = source[column.name];
    row[column.name] =
      cell === undefined || cell === null ? null : typeof cell === "number" ? cell : String(cell);
  }
  return row;
}
