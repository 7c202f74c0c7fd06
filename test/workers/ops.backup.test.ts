import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { d1Client } from "../../src/db/d1-client";
import { postgresClient } from "../../src/db/postgres-client";
import { repositoryOn } from "../../src/db/repository";
import worker from "../../src/index";
import { exportDatabase } from "../../src/ops/backup/export";
import { parseManifest } from "../../src/ops/backup/manifest";
import { ndjsonValues } from "../../src/ops/backup/ndjson";
import { backupPrefix } from "../../src/ops/backup/nightly";
import { PART_SIZE, r2BackupSink, r2BackupSource } from "../../src/ops/backup/r2";
import { restoreDatabase, restoreTable } from "../../src/ops/backup/restore";
import { TABLES } from "../../src/ops/backup/tables";
import { harness } from "./generation.support";
import { type Dump, dump, expectRestored, liveColumns, parseNdjson } from "./ops.backup.support";
import { backends } from "./support/backends";
import { call, newCharacter, newChat, newUser, openSocket } from "./support/session";

const WEIRD = "Ünïcödé 'single' \"double\" back\\slash\nnew line\ttab ☃ \u2028 -- ; DROP TABLE users; 🎨";

async function readExport(bucket: R2Bucket, prefix: string) {
  const manifestObject = await bucket.get(`${prefix}manifest.json`);
  if (!manifestObject) throw new Error(`no manifest under ${prefix}`);
  const manifest = parseManifest(await manifestObject.json());
  const rows = new Map<string, ReturnType<typeof parseNdjson>>();
  for (const entry of manifest.tables) {
    const object = await bucket.get(`${prefix}${entry.file}`);
    if (!object) throw new Error(`missing ${entry.file}`);
    expect(object.httpMetadata?.contentType).toBe("application/x-ndjson");
    rows.set(entry.name, parseNdjson(await object.text()));
  }
  return { manifest, rows };
}

function count(exported: Map<string, unknown[]>, table: string): number {
  return exported.get(table)?.length ?? 0;
}

/** The newest migration applied to the test databases (the same files production applies). */
const latestMigration = () => env.TEST_MIGRATIONS.at(-1)?.name.replace(/\.sql$/, "");

describe("backup columns", () => {
  it.each(["d1", "postgres"] as const)("match the live %s schema, table by table", async (backend) => {
    const client = backend === "d1" ? d1Client(env.DB) : postgresClient(env.HYPERDRIVE.connectionString);
    for (const table of TABLES) {
      expect(await liveColumns(client, table.name), table.name).toEqual(table.columns.map((c) => c.name));
    }
  });
});

describe("the nightly backup, restored into the other backend", { timeout: 60_000 }, () => {
  it("D1 -> R2 (cron 0 3 * * *) -> PostgreSQL: every row arrives, column for column; a second restore adds nothing", async () => {
    // A populated D1 through the API: users, a character with tags, a chat with messages, jobs with an idempotency key.
    const owner = await newUser("Backup Owner");
    const character = await newCharacter(owner, {
      description: WEIRD,
      tags: ["backup", "ünï", "x y"],
      is_public: false,
    });
    const chat = await newChat(owner, character.id);
    const socket = await openSocket(owner);
    socket.send({ type: "chat.send", chat_id: chat.id, content: WEIRD });
    await socket.nextOf("chat.done", chat.id, 15_000);
    socket.close();
    const h = harness();
    const job = await h.fetch(owner, "/generate", {
      json: { prompt: WEIRD, width: 256, height: 256, steps: 4, seed: 42 },
      headers: { "Idempotency-Key": `backup-${crypto.randomUUID()}` },
    });
    expect(job.status).toBe(202);
    const jobId = (await job.json<{ id: string }>()).id;
    expect((await h.fetch(owner, `/generations/${jobId}/cancel`, { method: "POST" })).status).toBe(200);
    await newUser("Second");

    const d1 = d1Client(env.DB);
    const source = await dump(d1);

    const scheduledTime = Date.UTC(2031, 0, 2, 3, 0, 0);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "0 3 * * *", scheduledTime }), env, ctx);
    await waitOnExecutionContext(ctx);
    const prefix = backupPrefix(new Date(scheduledTime));
    expect(prefix).toBe("backups/2031-01-02/");
    const { manifest, rows } = await readExport(env.BACKUPS, prefix);

    // The export holds exactly what D1 holds, and the manifest says so.
    expect(manifest).toMatchObject({
      source_backend: "sqlite",
      schema_version: latestMigration(),
    });
    for (const table of TABLES) {
      const entry = manifest.tables.find((t) => t.name === table.name);
      expect(entry?.rows, table.name).toBe(source.get(table.name)?.size);
      expect(count(rows, table.name), table.name).toBe(entry?.rows);
    }
    expect(count(rows, "chat_history")).toBeGreaterThanOrEqual(3);
    expect(rows.get("characters")?.find((r) => r.id === character.id)?.description).toBe(WEIRD);

    const pg = postgresClient(env.HYPERDRIVE.connectionString);
    const before = await dump(pg);
    const report = await restoreDatabase(pg, r2BackupSource(env.BACKUPS, prefix));
    const after = await dump(pg);
    const summary = expectRestored(rows, before, after);
    for (const t of report.tables) {
      expect(t.orphans, t.table).toBe(0);
      expect(t.inserted, t.table).toBe(summary[t.table]?.compared);
      expect(t.existing, t.table).toBe(summary[t.table]?.preexisting);
    }
    expect(summary.users?.compared).toBeGreaterThanOrEqual(2);
    expect(summary.image_generation_history?.compared).toBe(1);
    expect(summary.idempotency_keys?.compared).toBe(1);
    expect(summary.character_tags?.compared).toBe(3);

    const again = await restoreDatabase(pg, r2BackupSource(env.BACKUPS, prefix));
    expect(again.tables.map((t) => t.inserted)).toEqual(TABLES.map(() => 0));
  });

  it("PostgreSQL -> R2 -> D1: every row arrives, column for column", async () => {
    const pgBackend = backends.find((b) => b.name === "postgres");
    if (!pgBackend) throw new Error("no postgres backend");
    const guest = await pgBackend.fetch("/auth/guest", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ display_name: "PG Owner" }),
    });
    const { token, user } = await guest.json<{ token: string; user: { id: string } }>();
    const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const created = await pgBackend.fetch("/characters", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({
        name: "PG Character",
        description: WEIRD,
        tags: ["pg", "ünï"],
        greeting: "Hello {{user}}",
      }),
    });
    expect(created.status).toBe(201);
    const characterId = (await created.json<{ id: string }>()).id;
    const chat = await pgBackend.fetch("/chats", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ character_id: characterId }),
    });
    expect(chat.status).toBe(201);
    const repo = repositoryOn(postgresClient(env.HYPERDRIVE.connectionString));
    const now = new Date().toISOString();
    const jobId = `gen_pgbackup${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    await repo.jobs.create(
      {
        id: jobId,
        user_id: user.id,
        status: "queued",
        prompt: WEIRD,
        negative_prompt: "",
        params: { width: 256, height: 256, steps: 4, seed: 1, guidance: 7 },
        character_id: characterId,
        images: [],
        error: null,
        attempts: 0,
        upstream_id: null,
        dead_lettered: false,
        created_at: now,
        started_at: null,
        completed_at: null,
        updated_at: now,
      },
      { key: `pg-${jobId}`, requestHash: "h" },
    );
    await repo.jobs.transition(jobId, ["queued"], { status: "cancelled", completed_at: now }, now);

    const prefix = "backups/pg-roundtrip/";
    const manifest = await exportDatabase(repo.sql, r2BackupSink(env.BACKUPS, prefix));
    expect(manifest.source_backend).toBe("postgres");
    expect(manifest.schema_version).toBe(latestMigration());
    const { rows } = await readExport(env.BACKUPS, prefix);

    const d1 = d1Client(env.DB);
    const before: Dump = await dump(d1);
    const report = await restoreDatabase(d1, r2BackupSource(env.BACKUPS, prefix));
    const after = await dump(d1);
    // Other test files write to the shared PostgreSQL meanwhile: a row whose parent was deleted between
    // the two reads of the export is an orphan, skipped and counted. Ours all arrive.
    const summary = expectRestored(rows, before, after, true);
    for (const t of report.tables) {
      expect(t.orphans, t.table).toBe(summary[t.table]?.missing);
      expect(t.inserted, t.table).toBe(summary[t.table]?.compared);
    }
    const mine = async (query: ReturnType<typeof sql>) => (await d1.all(query)).length;
    expect(await mine(sql`SELECT 1 FROM users WHERE id = ${user.id}`)).toBe(1);
    expect(
      await mine(sql`SELECT 1 FROM characters WHERE id = ${characterId} AND description = ${WEIRD}`),
    ).toBe(1);
    expect(await mine(sql`SELECT 1 FROM character_tags WHERE character_id = ${characterId}`)).toBe(2);
    expect(await mine(sql`SELECT 1 FROM chats WHERE user_id = ${user.id}`)).toBe(1);
    expect(await mine(sql`SELECT 1 FROM chat_history WHERE user_id = ${user.id}`)).toBe(1);
    expect(
      await mine(sql`SELECT 1 FROM image_generation_history WHERE id = ${jobId} AND status = 'cancelled'`),
    ).toBe(1);
    expect(await mine(sql`SELECT 1 FROM idempotency_keys WHERE job_id = ${jobId}`)).toBe(1);

    // The restored user is a working account on D1: the token minted on PostgreSQL now reads it.
    const me = await call({ token, user: { id: user.id, display_name: "" }, ip: "10.9.9.9" }, "/me");
    expect(me.status).toBe(200);
  });
});

describe("the nightly cron on PostgreSQL", { timeout: 60_000 }, () => {
  const nextMonth = sql`SELECT format('chat_history_y%sm%s', to_char(d, 'YYYY'), to_char(d, 'MM')) AS name
    FROM (SELECT date_trunc('month', current_date + interval '1 month') AS d) AS x`;

  it("backs up from PostgreSQL and creates next month's chat-history partition", async () => {
    const pg = postgresClient(env.HYPERDRIVE.connectionString);
    const [{ name } = { name: "" }] = await pg.all<{ name: string }>(nextMonth);
    await pg.run(sql`DROP TABLE IF EXISTS ${sql.identifier(name)}`);
    const scheduledTime = Date.UTC(2031, 5, 1, 3, 0, 0);
    const ctx = createExecutionContext();
    const pgEnv = { ...env, DB_BACKEND: "postgres" } as Env;
    await worker.scheduled(createScheduledController({ cron: "0 3 * * *", scheduledTime }), pgEnv, ctx);
    await waitOnExecutionContext(ctx);
    const { manifest } = await readExport(env.BACKUPS, "backups/2031-06-01/");
    expect(manifest.source_backend).toBe("postgres");
    const exists = await pg.all<{ ok: boolean }>(sql`SELECT to_regclass(${name}) IS NOT NULL AS ok`);
    expect(exists[0]?.ok).toBe(true);
  });

  it("fails the cron run, naming the task, when a task fails (the others still run)", async () => {
    const noBucket = { ...env, BACKUPS: undefined } as unknown as Env;
    const ctx = createExecutionContext();
    await expect(
      worker.scheduled(
        createScheduledController({ cron: "0 3 * * *", scheduledTime: Date.now() }),
        noBucket,
        ctx,
      ),
    ).rejects.toThrow("nightly maintenance: backup failed");
    await waitOnExecutionContext(ctx);
  });
});

describe("backup files", () => {
  it("writes a file bigger than one part as an R2 multipart upload, byte for byte", async () => {
    const line = `${JSON.stringify({ id: "x".repeat(1000) })}\n`;
    const lines = Math.ceil((2 * PART_SIZE + PART_SIZE / 3) / line.length);
    async function* chunks() {
      for (let i = 0; i < lines; i++) yield line;
    }
    const bytes = await r2BackupSink(env.BACKUPS, "backups/multipart/").write("big.ndjson", chunks());
    expect(bytes).toBe(lines * line.length);
    const object = await env.BACKUPS.head("backups/multipart/big.ndjson");
    expect(object?.size).toBe(bytes);
    const text = await (await env.BACKUPS.get("backups/multipart/big.ndjson"))?.text();
    expect(text?.split("\n").filter(Boolean)).toHaveLength(lines);
  }, 60_000); // I/O-bound (many connections / parts): a busy machine is slow, never wrong

  it("parses NDJSON split anywhere across chunks, multi-byte characters included", async () => {
    const values = [{ a: "☃🎨Ü" }, { b: "line\nbreak inside a string" }, { c: 3 }];
    const bytes = new TextEncoder().encode(`${values.map((v) => JSON.stringify(v)).join("\n")}\n\n`);
    for (const size of [1, 2, 3, 7, bytes.length]) {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
          controller.close();
        },
      });
      const parsed: unknown[] = [];
      for await (const { value } of ndjsonValues(stream)) parsed.push(value);
      expect(parsed, `chunks of ${size}`).toEqual(values);
    }
  });

  it("refuses a restore line that is not a row of its table, naming table, line and column", async () => {
    const users = TABLES.find((t) => t.name === "users");
    if (!users) throw new Error("no users table");
    const stream = (text: string) => new Response(text).body as ReadableStream<Uint8Array>;
    const ok = '{"id":"usr_fine","display_name":"a","created_at":"2026-01-01T00:00:00.000Z"}\n';
    const cases: Array<[string, RegExp]> = [
      [`${ok}not json\n`, /line 2 is not valid JSON/],
      [
        `${ok}{"id":"usr_a","display_name":"a","created_at":"2026-01-01T00:00:00.000Z","is_admin":1}\n`,
        /line 2: unknown column "is_admin"/,
      ],
      [
        '{"id":"usr_a","display_name":5,"created_at":"2026-01-01T00:00:00.000Z"}\n',
        /line 1: display_name is not a valid text/,
      ],
      [
        '{"id":"usr_a","display_name":"a","created_at":"yesterday"}\n',
        /line 1: created_at is not a valid time/,
      ],
      ['{"id":"usr_a","created_at":"2026-01-01T00:00:00.000Z"}\n', /line 1: display_name is missing/],
      ["[1,2]\n", /line 1: not a JSON object/],
    ];
    for (const [text, error] of cases) {
      await expect(restoreTable(d1Client(env.DB), users, stream(text))).rejects.toThrow(error);
    }
    expect((await d1Client(env.DB).all(sql`SELECT 1 FROM users WHERE id = 'usr_a'`)).length).toBe(0);
  });

  it("refuses a backup without a manifest, or whose file disagrees with it", async () => {
    const d1 = d1Client(env.DB);
    await expect(restoreDatabase(d1, r2BackupSource(env.BACKUPS, "backups/none/"))).rejects.toThrow(
      /no manifest/,
    );
    const prefix = "backups/short/";
    await exportDatabase(d1, r2BackupSink(env.BACKUPS, prefix));
    await env.BACKUPS.put(`${prefix}users.ndjson`, "");
    await expect(restoreDatabase(d1, r2BackupSource(env.BACKUPS, prefix))).rejects.toThrow(
      /users.ndjson holds 0 rows/,
    );
  });
});
