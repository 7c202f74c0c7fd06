// `npm run db:backup -- --to <dir> [--from d1 | postgres | r2:backups/YYYY-MM-DD]`
//
// Writes a backup folder (<table>.ndjson + manifest.json, the nightly export's format) with
// the Worker's own export core (src/ops/backup/export.ts):
//   --from d1 (default)     the local D1 database of `wrangler dev` (--persist-to to pick another state dir)
//   --from postgres         PostgreSQL at --database-url (or DATABASE_URL), e.g. production before a move
//   --from r2:<prefix>      copy a nightly export out of the local R2 bucket BACKUPS
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { directorySink } from "./lib/backup-files.mjs";
import { openLocalBindings } from "./lib/local-bindings.mjs";
import { loadBackupCore } from "./lib/ops-core.mjs";

const USAGE =
  "usage: npm run db:backup -- --to <dir> [--from d1|postgres|r2:backups/YYYY-MM-DD] [--database-url URL] [--persist-to DIR]";

/** Runs a backup; returns the manifest. Exported for the tests. */
export async function backup(argv, log = console.log) {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: "string", default: "d1" },
      to: { type: "string" },
      "database-url": { type: "string" },
      "persist-to": { type: "string" },
    },
  });
  if (!values.to) throw new Error(USAGE);
  const dir = path.resolve(values.to);
  await mkdir(dir, { recursive: true });
  const sink = directorySink(dir);
  const persistTo = values["persist-to"] ? path.resolve(values["persist-to"]) : undefined;
  const core = await loadBackupCore();
  const cleanups = [];
  try {
    let manifest;
    if (values.from === "postgres") {
      const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
      if (!databaseUrl) throw new Error("--from postgres needs --database-url (or DATABASE_URL)");
      const client = core.postgresNodeClient(databaseUrl);
      manifest = await core.exportDatabase(client, sink);
    } else if (values.from === "d1" || values.from.startsWith("r2:")) {
      const local = await openLocalBindings({ persistTo });
      cleanups.push(local.dispose);
      if (values.from === "d1") {
        manifest = await core.exportDatabase(core.d1Client(local.env.DB), sink);
      } else {
        const prefix = values.from.slice(3).replace(/\/?$/, "/");
        const source = core.r2BackupSource(local.env.BACKUPS, prefix);
        manifest = await core.readManifest(source);
        for (const name of [...manifest.tables.map((t) => t.file), "manifest.json"]) {
          const stream = await source.read(name);
          if (!stream) throw new Error(`${prefix}${name} is missing`);
          await sink.write(name, decode(stream));
        }
      }
    } else {
      throw new Error(USAGE);
    }
    log(`backup of ${manifest.source_backend} (schema ${manifest.schema_version ?? "unknown"}) in ${dir}`);
    for (const t of manifest.tables)
      log(`  ${t.name.padEnd(26)} ${String(t.rows).padStart(9)} rows ${String(t.bytes).padStart(12)} bytes`);
    return manifest;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

async function* decode(stream) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) yield decoder.decode(chunk, { stream: true });
  yield decoder.decode();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  backup(process.argv.slice(2)).then(
    () => process.exit(0),
    (error) => {
      console.error(`db:backup: ${error.message}`);
      process.exit(1);
    },
  );
}
