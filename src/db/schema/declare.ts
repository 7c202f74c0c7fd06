import type { $Type, BuildColumns, ColumnBuilderBase, HasDefault, NotNull } from "drizzle-orm";
import { sql } from "drizzle-orm";
import {
  type PgColumnBuilderBase,
  type PgIntegerBuilderInitial,
  type PgTableWithColumns,
  type PgTextBuilderInitial,
  type PgTimestampStringBuilderInitial,
  check as pgCheck,
  foreignKey as pgForeignKey,
  index as pgIndex,
  integer as pgInteger,
  primaryKey as pgPrimaryKey,
  pgTable,
  text as pgText,
  timestamp as pgTimestamp,
} from "drizzle-orm/pg-core";
import {
  type SQLiteColumnBuilderBase,
  type SQLiteIntegerBuilderInitial,
  type SQLiteTableWithColumns,
  type SQLiteTextBuilderInitial,
  check as sqliteCheck,
  foreignKey as sqliteForeignKey,
  index as sqliteIndex,
  integer as sqliteInteger,
  primaryKey as sqlitePrimaryKey,
  sqliteTable,
  text as sqliteText,
} from "drizzle-orm/sqlite-core";

/**
 * One declaration, two dialects. D1 is SQLite and the other backend is PostgreSQL, and drizzle
 * has a table type per dialect (`sqliteTable`, `pgTable`). Writing each table twice is how
 * the two drifted before, so a table is declared once here, in the few terms the service
 * needs, and `buildSqlite` / `buildPostgres` turn the whole declaration into each dialect's
 * drizzle tables (which drizzle-kit reads to write migrations/d1 and migrations/postgres).
 *
 * A column is one of three kinds, which is also what a backup row is checked against:
 * - `text`: TEXT on both;
 * - `integer`: INTEGER on both (booleans are 0/1 integers on both, as D1 has no boolean);
 * - `time`: an ISO-8601 UTC instant: TEXT on D1, TIMESTAMPTZ on PostgreSQL, read back as an
 *   ISO string on both (mode "string"; the PostgreSQL client normalises any `Date`).
 *
 * Names in the database are what PostgreSQL would pick on its own (`<table>_pkey`,
 * `<table>_<column>_fkey`, `<table>_<column>_check`), because the first migration was written
 * by hand without names: a later generated migration that drops one must name it right.
 */
export type ColumnKind = "text" | "integer" | "time";

interface ColumnOptions {
  notNull?: boolean;
  default?: string | number;
  primaryKey?: boolean;
  /** The allowed values: a CHECK constraint, and the column's type in TypeScript. */
  oneOf?: readonly string[];
  references?: { table: string; column: string; onDelete: "cascade" };
}

/** A column as declared; the type parameters carry what drizzle's row types need. */
export class Column<
  K extends ColumnKind = ColumnKind,
  N extends boolean = boolean,
  D extends boolean = boolean,
  V = never,
> {
  declare readonly _kind: K;
  declare readonly _notNull: N;
  declare readonly _hasDefault: D;
  declare readonly _values: V;
  constructor(
    readonly kind: K,
    readonly options: ColumnOptions = {},
  ) {}
  notNull(): Column<K, true, D, V> {
    return new Column(this.kind, { ...this.options, notNull: true });
  }
  /** A single-column primary key (NOT NULL). */
  primaryKey(): Column<K, true, D, V> {
    return new Column(this.kind, { ...this.options, notNull: true, primaryKey: true });
  }
  default(value: K extends "integer" ? number : string): Column<K, N, true, V> {
    return new Column(this.kind, { ...this.options, default: value });
  }
  oneOf<const T extends readonly string[]>(values: T): Column<K, N, D, T[number]> {
    return new Column(this.kind, { ...this.options, oneOf: values });
  }
  /** A foreign key to `table(column)`, deleted with its parent. */
  references(table: string, column = "id"): Column<K, N, D, V> {
    return new Column(this.kind, { ...this.options, references: { table, column, onDelete: "cascade" } });
  }
}

export const text = (): Column<"text", false, false> => new Column("text");
export const integer = (): Column<"integer", false, false> => new Column("integer");
export const time = (): Column<"time", false, false> => new Column("time");

// biome-ignore lint/suspicious/noExplicitAny: any column, whatever its value type
type AnyColumn = Column<ColumnKind, boolean, boolean, any>;

/** An index column, ascending unless wrapped in `desc()`. */
export type IndexColumn<C extends string> = C | { desc: C };
export const desc = <C extends string>(column: C): { desc: C } => ({ desc: column });

export interface TableDeclaration<C extends Record<string, AnyColumn> = Record<string, AnyColumn>> {
  columns: C;
  /** A composite primary key (a single one is declared on its column). */
  primaryKey?: readonly (keyof C & string)[];
  /**
   * PostgreSQL only: the table is partitioned by this column, which therefore joins its primary
   * key there. drizzle-kit cannot express partitioning: the `PARTITION BY` and the partitions
   * are hand-written SQL (migrations/postgres/0001_init.sql).
   */
  partitionedBy?: keyof C & string;
  indexes?: Record<string, readonly IndexColumn<keyof C & string>[]>;
}

// biome-ignore lint/suspicious/noExplicitAny: a table of any columns (TableDeclaration is invariant in them)
export type SchemaDeclaration = Record<string, TableDeclaration<any>>;
type AnyTable = SchemaDeclaration[string];

/** Checks a declaration's column names in indexes and keys (and keeps its literal types). */
export function table<C extends Record<string, AnyColumn>>(
  declaration: TableDeclaration<C>,
): TableDeclaration<C> {
  return declaration;
}

// ---- types: what drizzle's own builders would have typed ----

type Typed<B extends ColumnBuilderBase, V> = [V] extends [never] ? B : $Type<B, V>;
type WithNotNull<B extends ColumnBuilderBase, N> = N extends true ? NotNull<B> : B;
type WithDefault<B extends ColumnBuilderBase, D> = D extends true ? HasDefault<B> : B;
/** The builder type drizzle's own `text().notNull().default(...)` chain would have had. */
type Flags<B extends ColumnBuilderBase, N, D, V> = WithDefault<WithNotNull<Typed<B, V>, N>, D>;

type SqliteBase<K> = K extends "integer"
  ? SQLiteIntegerBuilderInitial<"">
  : SQLiteTextBuilderInitial<"", [string, ...string[]], undefined>;
type PgBase<K> = K extends "integer"
  ? PgIntegerBuilderInitial<"">
  : K extends "time"
    ? PgTimestampStringBuilderInitial<"">
    : PgTextBuilderInitial<"", [string, ...string[]]>;

type SqliteColumns<C> = {
  [P in keyof C]: C[P] extends Column<infer K, infer N, infer D, infer V>
    ? Flags<SqliteBase<K>, N, D, V>
    : never;
};
type PgColumns<C> = {
  [P in keyof C]: C[P] extends Column<infer K, infer N, infer D, infer V> ? Flags<PgBase<K>, N, D, V> : never;
};

type Assume<T, U> = T extends U ? T : U;
type ColumnsOf<T> = T extends TableDeclaration<infer C> ? C : never;

export type SqliteTables<S extends SchemaDeclaration> = {
  [T in keyof S & string]: SQLiteTableWithColumns<{
    name: T;
    schema: undefined;
    columns: BuildColumns<
      T,
      Assume<SqliteColumns<ColumnsOf<S[T]>>, Record<string, SQLiteColumnBuilderBase>>,
      "sqlite"
    >;
    dialect: "sqlite";
  }>;
};
export type PgTables<S extends SchemaDeclaration> = {
  [T in keyof S & string]: PgTableWithColumns<{
    name: T;
    schema: undefined;
    columns: BuildColumns<T, Assume<PgColumns<ColumnsOf<S[T]>>, Record<string, PgColumnBuilderBase>>, "pg">;
    dialect: "pg";
  }>;
};

// ---- runtime: the same declaration, built twice ----

function checkValues(column: string, values: readonly string[]) {
  return sql.raw(`${column} IN (${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(", ")})`);
}

/** A table's columns, in declaration order (the order of its CREATE TABLE). */
export function columnsOf(declaration: AnyTable): [string, AnyColumn][] {
  return Object.entries(declaration.columns);
}

/** The primary key columns of a table on PostgreSQL (the partition key included). */
export function primaryKeyOf(declaration: AnyTable, dialect: "sqlite" | "postgres"): string[] {
  const keys =
    declaration.primaryKey ??
    columnsOf(declaration)
      .filter(([, column]) => column.options.primaryKey)
      .map(([name]) => name);
  const partition = dialect === "postgres" ? declaration.partitionedBy : undefined;
  return partition && !keys.includes(partition) ? [...keys, partition] : [...keys];
}

/** Whether the primary key is declared on its one column (else a table constraint). */
function columnLevelKey(declaration: AnyTable, dialect: "sqlite" | "postgres"): boolean {
  return !declaration.primaryKey && primaryKeyOf(declaration, dialect).length === 1;
}

export function buildSqlite<S extends SchemaDeclaration>(schema: S): SqliteTables<S> {
  // biome-ignore lint/suspicious/noExplicitAny: drizzle tables of any shape, typed by SqliteTables
  const built: Record<string, any> = {};
  for (const [name, declaration] of Object.entries(schema)) {
    const keyOnColumn = columnLevelKey(declaration, "sqlite");
    const columns: Record<string, SQLiteColumnBuilderBase> = {};
    for (const [columnName, column] of columnsOf(declaration)) {
      const { options } = column;
      let builder = column.kind === "integer" ? sqliteInteger(columnName) : sqliteText(columnName);
      if (options.primaryKey && keyOnColumn) builder = builder.primaryKey();
      if (options.notNull) builder = builder.notNull();
      if (options.default !== undefined) builder = builder.default(options.default as never);
      columns[columnName] = builder;
    }
    built[name] = sqliteTable(name, columns, (t) => [
      ...(keyOnColumn
        ? []
        : [
            sqlitePrimaryKey({
              name: `${name}_pkey`,
              columns: primaryKeyOf(declaration, "sqlite").map((c) => t[c]) as [never, ...never[]],
            }),
          ]),
      ...columnsOf(declaration).flatMap(([columnName, { options }]) => [
        ...(options.references
          ? [
              sqliteForeignKey({
                name: `${name}_${columnName}_fkey`,
                columns: [t[columnName] as never],
                foreignColumns: [built[options.references.table][options.references.column]],
              }).onDelete(options.references.onDelete),
            ]
          : []),
        ...(options.oneOf
          ? [sqliteCheck(`${name}_${columnName}_check`, checkValues(columnName, options.oneOf))]
          : []),
      ]),
      ...Object.entries(declaration.indexes ?? {}).map(([indexName, on]) => {
        const parts = on.map((c) => (typeof c === "string" ? t[c] : sql`${t[c.desc]} desc`));
        return sqliteIndex(indexName).on(...(parts as [never, ...never[]]));
      }),
    ]);
  }
  return built as SqliteTables<S>;
}

export function buildPostgres<S extends SchemaDeclaration>(schema: S): PgTables<S> {
  // biome-ignore lint/suspicious/noExplicitAny: drizzle tables of any shape, typed by PgTables
  const built: Record<string, any> = {};
  for (const [name, declaration] of Object.entries(schema)) {
    const keyOnColumn = columnLevelKey(declaration, "postgres");
    const columns: Record<string, PgColumnBuilderBase> = {};
    for (const [columnName, column] of columnsOf(declaration)) {
      const { options } = column;
      let builder =
        column.kind === "integer"
          ? pgInteger(columnName)
          : column.kind === "time"
            ? pgTimestamp(columnName, { withTimezone: true, mode: "string" })
            : pgText(columnName);
      if (options.primaryKey && keyOnColumn) builder = builder.primaryKey();
      if (options.notNull) builder = builder.notNull();
      if (options.default !== undefined) builder = builder.default(options.default as never);
      columns[columnName] = builder;
    }
    built[name] = pgTable(name, columns, (t) => [
      ...(keyOnColumn
        ? []
        : [
            pgPrimaryKey({
              name: `${name}_pkey`,
              columns: primaryKeyOf(declaration, "postgres").map((c) => t[c]) as [never, ...never[]],
            }),
          ]),
      ...columnsOf(declaration).flatMap(([columnName, { options }]) => [
        ...(options.references
          ? [
              pgForeignKey({
                name: `${name}_${columnName}_fkey`,
                columns: [t[columnName] as never],
                foreignColumns: [built[options.references.table][options.references.column]],
              }).onDelete(options.references.onDelete),
            ]
          : []),
        ...(options.oneOf
          ? [pgCheck(`${name}_${columnName}_check`, checkValues(columnName, options.oneOf))]
          : []),
      ]),
      ...Object.entries(declaration.indexes ?? {}).map(([indexName, on]) => {
        // DESC NULLS FIRST is what PostgreSQL means by a plain DESC (the hand-written indexes).
        const parts = on.map((c) => (typeof c === "string" ? t[c] : t[c.desc]?.desc().nullsFirst()));
        return pgIndex(indexName).on(...(parts as [never, ...never[]]));
      }),
    ]);
  }
  return built as PgTables<S>;
}
