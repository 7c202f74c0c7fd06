import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { postgresClient } from "../../src/db/postgres-client";

/** How many server processes PostgreSQL still has for `pid` (polled: a close is asynchronous). */
async function backendsWithPid(pid: number): Promise<number> {
  const observer = postgresClient(env.HYPERDRIVE.connectionString);
  try {
    let alive = 0;
    for (let attempt = 0; attempt < 40; attempt++) {
      const rows = await observer.all<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${pid}`,
      );
      alive = rows[0]?.n ?? 0;
      if (alive === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return alive;
  } finally {
    await observer.close();
  }
}

describe("the PostgreSQL client (through the HYPERDRIVE binding)", () => {
  it("returns its connection to the server when closed", async () => {
    const client = postgresClient(env.HYPERDRIVE.connectionString);
    const rows = await client.all<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`);
    const pid = rows[0]?.pid;
    expect(pid).toEqual(expect.any(Number));
    await client.close();
    expect(await backendsWithPid(pid as number)).toBe(0);
  });

  it("opens and closes more clients in one long-lived context than the server allows at once", async () => {
    // A Durable Object keeps its sockets as long as it lives; a chat turn opens one client.
    const [limit] = await (async () => {
      const probe = postgresClient(env.HYPERDRIVE.connectionString);
      try {
        const r = await probe.all<{ max: number }>(
          sql`SELECT current_setting('max_connections')::int AS max`,
        );
        return [r[0]?.max ?? 100];
      } finally {
        await probe.close();
      }
    })();
    for (let turn = 0; turn < limit + 20; turn++) {
      const client = postgresClient(env.HYPERDRIVE.connectionString);
      const r = await client.all<{ one: number }>(sql`SELECT 1 AS one`);
      expect(r[0]?.one).toBe(1);
      await client.close();
    }
  }, 60_000); // I/O-bound (many connections / parts): a busy machine is slow, never wrong

  it("closes a client that never connected without error", async () => {
    await expect(postgresClient(env.HYPERDRIVE.connectionString).close()).resolves.toBeUndefined();
  });
});
