import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { chargeStatement, flatStatement } from "../../src/realtime/turn-stamp";

// The turn's charge is sent flattened (its text merged once, values put in slots): it must
// render to exactly what drizzle renders from the nested statement, in both dialects.
describe("the charge statement, flattened", () => {
  const dialects = [new SQLiteAsyncDialect(), new PgDialect()];
  const calls: unknown[][] = [
    ["usr_a", "cht_1", "2026-12-03", 1, 50, 10],
    ["usr_b'; DROP TABLE users; --", "cht_2", "2026-12-04", 3, 0, 7],
  ];
  const flat = flatStatement(chargeStatement as (...args: unknown[]) => ReturnType<typeof chargeStatement>);

  it("renders the same text and parameters as the nested statement", () => {
    for (const dialect of dialects) {
      for (const values of calls) {
        const nested = dialect.sqlToQuery(chargeStatement(...(values as Parameters<typeof chargeStatement>)));
        const flattened = dialect.sqlToQuery(flat(values));
        expect(flattened.sql).toBe(nested.sql);
        expect(flattened.params).toEqual(nested.params);
        expect(flattened.params).toContain(values[0]);
        expect(flattened.params.length).toBeGreaterThan(30);
      }
    }
  });

  it("puts each call's own values in (no value kept from an earlier call)", () => {
    const dialect = dialects[0] as SQLiteAsyncDialect;
    const first = dialect.sqlToQuery(flat(calls[0] as unknown[]));
    const second = dialect.sqlToQuery(flat(calls[1] as unknown[]));
    expect(second.params).not.toContain("usr_a");
    expect(first.params).not.toContain("cht_2");
  });

  it("refuses a statement with a value that is not one of its arguments", () => {
    expect(() => flatStatement((a: unknown) => sql`SELECT ${a}, ${"fixed"}`)).toThrow(/neither/);
  });
});
