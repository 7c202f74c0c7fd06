/**
 * The tables a backup holds, as migrations/d1 and migrations/postgres define them (a test
 * checks this list against both live schemas). Listed parents first: the order a restore
 * inserts in. An export reads them in reverse (children first): the export is not one
 * snapshot, and a child read before its parent almost always finds that parent still there.
 */
export type ColumnKind = "text" | "integer" | "time";

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  nullable?: boolean;
}

export interface TableSpec {
  name: string;
  /** Unique, non-null columns: keyset order of the export pages. */
  key: readonly string[];
  columns: readonly ColumnSpec[];
  /** A foreign key: rows whose parent is missing are skipped (and counted) by a restore. */
  parent?: { column: string; table: string; nullable?: boolean };
}

const text = (name: string, nullable = false): ColumnSpec => ({ name, kind: "text", nullable });
const integer = (name: string): ColumnSpec => ({ name, kind: "integer" });
const time = (name: string, nullable = false): ColumnSpec => ({ name, kind: "time", nullable });

export const TABLES: readonly TableSpec[] = [
  { name: "users", key: ["id"], columns: [text("id"), text("display_name"), time("created_at")] },
  {
    name: "characters",
    key: ["id"],
    parent: { column: "owner_id", table: "users", nullable: true },
    columns: [
      text("id"),
      text("owner_id", true),
      text("name"),
      text("description"),
      text("personality"),
      text("scenario"),
      text("greeting"),
      text("system_prompt"),
      text("example_dialogue"),
      text("tags"),
      text("card_extras", true),
      text("avatar_url", true),
      integer("is_public"),
      integer("chat_count"),
      time("created_at"),
      time("updated_at"),
    ],
  },
  {
    name: "character_tags",
    key: ["tag", "character_id"],
    parent: { column: "character_id", table: "characters" },
    columns: [text("tag"), text("character_id")],
  },
  {
    name: "chats",
    key: ["id"],
    parent: { column: "user_id", table: "users" },
    columns: [
      text("id"),
      text("user_id"),
      text("character_id"),
      text("title"),
      time("created_at"),
      time("last_message_at"),
    ],
  },
  {
    name: "chat_history",
    key: ["id", "created_at"],
    columns: [
      text("id"),
      text("chat_id"),
      text("user_id"),
      text("role"),
      text("content"),
      text("status"),
      time("created_at"),
    ],
  },
  {
    name: "image_generation_history",
    key: ["id"],
    parent: { column: "user_id", table: "users" },
    columns: [
      text("id"),
      text("user_id"),
      text("character_id", true),
      text("status"),
      text("prompt"),
      text("negative_prompt"),
      text("params"),
      text("images"),
      text("error_code", true),
      text("error_message", true),
      integer("attempts"),
      text("upstream_id", true),
      integer("dead_lettered"),
      time("created_at"),
      time("started_at", true),
      time("completed_at", true),
      time("updated_at"),
    ],
  },
  {
    name: "idempotency_keys",
    key: ["user_id", "key"],
    columns: [text("user_id"), text("key"), text("request_hash"), text("job_id"), time("created_at")],
  },
];

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
