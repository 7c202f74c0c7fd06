import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
// @ts-expect-error -- plain ESM scripts
import { backup } from "../../scripts/db-backup.mjs";
// @ts-expect-error -- plain ESM scripts
import { restore } from "../../scripts/db-restore.mjs";
// @ts-expect-error -- plain ESM helpers
import { openLocalBindings } from "../../scripts/lib/local-bindings.mjs";
// @ts-expect-error -- plain ESM helpers
import { applyPostgresMigrations } from "../../scripts/lib/postgres.mjs";
import { postgresClient } from "../../src/db/postgres-client";
import { TABLES } from "../../src/ops/backup/tables";
import { type Dump, dump, keyOf, normalised, parseNdjson } from "../workers/ops.backup.support";

const WEIRD = "Ünïcödé 'single' \"double\" back\\slash\nnew line\ttab ☃ \u2028 -- ; DROP TABLE users; 🎨";
const quiet = () => {};

/** A fresh database on the test PostgreSQL server, with the production migrations. */
async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`);
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await applyPostgresMigrations(url.toString());
  return url.toString();
}

/** Enough rows to cross several 1 000-row export pages, with nulls, odd text and every table. */
async function populate(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const t = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
    const users = Array.from({ length: 1200 }, (_, i) => ({
      id: `usr_${String(i).padStart(5, "0")}`,
      display_name: i % 7 ? `User ${i}` : WEIRD,
      created_at: t(i),
    }));
    await sql`INSERT INTO users ${sql(users)}`;
    const characters = Array.from({ length: 30 }, (_, i) => ({
      id: `chr_${String(i).padStart(3, "0")}`,
      owner_id: i % 3 === 0 ? null : `usr_${String(i).padStart(5, "0")}`,
      name: `Character ${i}`,
      description: WEIRD,
      tags: JSON.stringify(["a", `t${i}`]),
      card_extras: i % 2 ? JSON.stringify({ extensions: { depth: i } }) : null,
      avatar_url: i % 2 ? null : `https://example.com/${i}.png`,
      is_public: i % 2,
      chat_count: i * 3,
      created_at: t(i),
      updated_at: t(i + 1),
    }));
    await sql`INSERT INTO characters ${sql(characters)}`;
    const tags = characters.flatMap((c, i) => [
      { tag: "a", character_id: c.id },
      { tag: `t${i}`, character_id: c.id },
    ]);
    await sql`INSERT INTO character_tags ${sql(tags)}`;
    const chats = Array.from({ length: 40 }, (_, i) => ({
      id: `cht_${String(i).padStart(3, "0")}`,
      user_id: `usr_${String(i).padStart(5, "0")}`,
      character_id: `chr_${String(i % 30).padStart(3, "0")}`,
      title: `Chat ${i}`,
      created_at: t(i),
      last_message_at: t(i + 100),
    }));
    await sql`INSERT INTO chats ${sql(chats)}`;
    const messages = Array.from({ length: 2600 }, (_, i) => ({
      id: `msg_${String(i).padStart(5, "0")}`,
      chat_id: `cht_${String(i % 40).padStart(3, "0")}`,
      user_id: `usr_${String(i % 40).padStart(5, "0")}`,
      role: i % 2 ? "assistant" : "user",
      content: i % 11 ? `message ${i}` : WEIRD,
      status: i % 13 ? "complete" : "cancelled",
      // Spread over three months: several monthly partitions of chat_history.
      created_at: new Date(Date.UTC(2026, 0, 1) + i * 3_000_000).toISOString(),
    }));
    for (let i = 0; i < messages.length; i += 500)
      await sql`INSERT INTO chat_history ${sql(messages.slice(i, i + 500))}`;
    const jobs = Array.from({ length: 25 }, (_, i) => ({
      id: `gen_${String(i).padStart(3, "0")}`,
      user_id: `usr_${String(i).padStart(5, "0")}`,
      character_id: i % 2 ? `chr_${String(i).padStart(3, "0")}` : null,
      status: ["queued", "running", "succeeded", "failed", "cancelled"][i % 5] as string,
      prompt: WEIRD,
      negative_prompt: "",
      params: JSON.stringify({ width: 256, height: 256, steps: 4, seed: i, guidance: 7 }),
      images:
        i % 5 === 2
          ? JSON.stringify([
              {
                url: "https://x/y.png",
                width: 256,
                height: 256,
                content_type: "image/png",
                key: "images/k/y.png",
              },
            ])
          : "[]",
      error_code: i % 5 === 3 ? "dead_lettered" : null,
      error_message: i % 5 === 3 ? "gone" : null,
      attempts: i % 4,
      upstream_id: i % 5 === 1 ? `up-${i}` : null,
      dead_lettered: i % 5 === 3 ? 1 : 0,
      created_at: t(i),
      started_at: i % 5 === 0 ? null : t(i + 1),
      completed_at: i % 5 >= 2 ? t(i + 2) : null,
      updated_at: t(i + 3),
    }));
    await sql`INSERT INTO image_generation_history ${sql(jobs)}`;
    const keys = jobs.map((j, i) => ({
      user_id: j.user_id,
      key: `key-${i} ${WEIRD.slice(0, 8)}`,
      request_hash: `h${i}`,
      job_id: j.id,
      created_at: t(i),
    }));
    await sql`INSERT INTO idempotency_keys ${sql(keys)}`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A backup folder's rows, normalised, by table and key. */
async function readFolder(dir: string): Promise<Dump> {
  const all: Dump = new Map();
  for (const table of TABLES) {
    const rows = parseNdjson(await readFile(path.join(dir, `${table.name}.ndjson`), "utf8"));
    all.set(table.name, new Map(rows.map((row) => [keyOf(table, row), normalised(table, row)])));
  }
  return all;
}

function expectSameDump(actual: Dump, expected: Dump): void {
  for (const table of TABLES) {
    const a = actual.get(table.name);
    const e = expected.get(table.name);
    expect(a?.size, table.name).toBe(e?.size);
    for (const [key, row] of e ?? []) expect(a?.get(key), `${table.name} ${key}`).toEqual(row);
  }
}

const scratch: string[] = [];
let sourceUrl = "";
let targetUrl = "";
let folder = "";
let d1State = "";

beforeAll(async () => {
  const adminUrl = inject("databaseUrl");
  sourceUrl = await freshDatabase(adminUrl, "restore_source");
  targetUrl = await freshDatabase(adminUrl, "restore_target");
  await populate(sourceUrl);
  folder = await mkdtemp(path.join(os.tmpdir(), "edge-art-backup-"));
  d1State = await mkdtemp(path.join(os.tmpdir(), "edge-art-d1-"));
  scratch.push(folder, d1State);
}, 120_000);

afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

describe("npm run db:backup / db:restore", { timeout: 180_000 }, () => {
  it("moves a PostgreSQL database into a fresh PostgreSQL with nothing lost, and a second restore adds nothing", async () => {
    const manifest = await backup(["--from", "postgres", "--database-url", sourceUrl, "--to", folder], quiet);
    expect(manifest.source_backend).toBe("postgres");
    expect(manifest.tables.find((t: { name: string }) => t.name === "chat_history")?.rows).toBe(2600);
    expect((await readdir(folder)).sort()).toEqual(
      [...TABLES.map((t) => `${t.name}.ndjson`), "manifest.json"].sort(),
    );

    const report = await restore(["--from", folder, "--to", "postgres", "--database-url", targetUrl], quiet);
    expect(report.tables.every((t: { orphans: number }) => t.orphans === 0)).toBe(true);
    const source = await dump(postgresClient(`${sourceUrl}?idle_timeout=1`));
    const target = await dump(postgresClient(`${targetUrl}?idle_timeout=1`));
    expectSameDump(target, source);
    expect(target.get("users")?.size).toBe(1200);

    const again = await restore(["--from", folder, "--to", "postgres", "--database-url", targetUrl], quiet);
    expect(again.tables.map((t: { inserted: number }) => t.inserted)).toEqual(TABLES.map(() => 0));
  });

  it("moves the same backup into a fresh local D1 and back out again, row for row", async () => {
    const report = await restore(["--from", folder, "--to", "d1", "--persist-to", d1State], quiet);
    const inserted = Object.fromEntries(
      report.tables.map((t: { table: string; inserted: number }) => [t.table, t.inserted]),
    );
    expect(inserted.users).toBe(1200);
    expect(inserted.chat_history).toBe(2600);
    // The sample characters come with the migrations; the rest are new.
    expect(report.tables.every((t: { orphans: number }) => t.orphans === 0)).toBe(true);

    const out = path.join(folder, "from-d1");
    scratch.push(out);
    const manifest = await backup(["--from", "d1", "--persist-to", d1State, "--to", out], quiet);
    expect(manifest.source_backend).toBe("sqlite");
    expectSameDump(await readFolder(out), await readFolder(folder));
  });

  it("copies a nightly export out of the local R2 bucket, and restores from it", async () => {
    const local = await openLocalBindings({ persistTo: d1State });
    try {
      for (const name of await readdir(folder)) {
        if (!name.includes(".")) continue;
        await local.env.BACKUPS.put(`backups/2031-02-03/${name}`, await readFile(path.join(folder, name)));
      }
    } finally {
      await local.dispose();
    }
    const copy = path.join(folder, "from-r2");
    scratch.push(copy);
    await backup(["--from", "r2:backups/2031-02-03", "--persist-to", d1State, "--to", copy], quiet);
    for (const table of TABLES) {
      const file = `${table.name}.ndjson`;
      expect(await readFile(path.join(copy, file), "utf8"), file).toBe(
        await readFile(path.join(folder, file), "utf8"),
      );
    }
    const report = await restore(
      ["--from", "r2:backups/2031-02-03", "--to", "d1", "--persist-to", d1State],
      quiet,
    );
    expect(report.tables.map((t: { inserted: number }) => t.inserted)).toEqual(TABLES.map(() => 0));
  });

  it("refuses bad arguments with the usage line", async () => {
    await expect(restore(["--from", folder], quiet)).rejects.toThrow(/usage: npm run db:restore/);
    await expect(restore(["--from", folder, "--to", "mysql"], quiet)).rejects.toThrow(/usage/);
    await expect(backup([], quiet)).rejects.toThrow(/usage: npm run db:backup/);
  });
});
