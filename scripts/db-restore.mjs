// `npm run db:restore -- --from <dir | r2:backups/YYYY-MM-DD> --to d1|postgres [--database-url URL]`
//
// Loads a backup written by the nightly export (or `npm run db:backup`) into either backend,
// with the Worker's own restore core (src/ops/backup/restore.ts): rows validated line by line,
// inserted with ON CONFLICT DO NOTHING, so running it twice changes nothing.
//   --from <dir>            a folder with manifest.json and <table>.ndjson files
//   --from r2:<prefix>      a backup in the local R2 bucket BACKUPS (as `wrangler dev` keeps it)
//   --to d1                 the local D1 database of `wrangler dev` (--persist-to to pick another state dir)
//   --to postgres           PostgreSQL at --database-url (or DATABASE_URL)
//   --no-migrate            do not apply the target's migrations first (they are idempotent; default: apply)
import path from "node:path";
import { parseArgs } from "node:util";
import { directorySource } from "./lib/backup-files.mjs";
import { applyLocalD1Migrations, openLocalBindings } from "./lib/local-bindings.mjs";
import { loadBackupCore } from "./lib/ops-core.mjs";
import { applyPostgresMigrations } from "./lib/postgres.mjs";

const USAGE =
  "usage: npm run db:restore -- --from <dir | r2:backups/YYYY-MM-DD> --to d1|postgres [--database-url URL] [--persist-to DIR] [--no-migrate]";

/** Runs a restore; returns the report. Exported for the tests (test/node/restore*.test.ts). */
export async function restore(argv, log = console.log) {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      "database-url": { type: "string" },
      "persist-to": { type: "string" },
      "no-migrate": { type: "boolean", default: false },
    },
  });
  if (!values.from || (values.to !== "d1" && values.to !== "postgres")) throw new Error(USAGE);
  const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
  if (values.to === "postgres" && !databaseUrl)
    throw new Error("--to postgres needs --database-url (or DATABASE_URL)");
  const persistTo = values["persist-to"] ? path.resolve(values["persist-to"]) : undefined;
  const core = await loadBackupCore();

  const cleanups = [];
  try {
    let local;
    const bindings = async () => {
      if (!local) {
        local = await openLocalBindings({ persistTo });
        cleanups.push(local.dispose);
      }
      return local.env;
    };
    const source = values.from.startsWith("r2:")
      ? core.r2BackupSource((await bindings()).BACKUPS, withSlash(values.from.slice(3)))
      : directorySource(path.resolve(values.from));

    let client;
    if (values.to === "d1") {
      if (!values["no-migrate"]) applyLocalD1Migrations({ persistTo });
      client = core.d1Client((await bindings()).DB);
    } else {
      if (!values["no-migrate"]) await applyPostgresMigrations(databaseUrl);
      client = core.postgresNodeClient(databaseUrl);
    }

    const started = Date.now();
    const report = await core.restoreDatabase(client, source);
    log(`restored into ${values.to} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    log(
      `schema: backup ${report.source_schema_version ?? "unknown"}, target ${report.target_schema_version ?? "unknown"}`,
    );
    if (report.source_schema_version !== report.target_schema_version) {
      log("warning: the backup and the target are at different migrations; check the columns match");
    }
    log(
      [
        "table".padEnd(26),
        "rows".padStart(9),
        "inserted".padStart(9),
        "existing".padStart(9),
        "orphans".padStart(8),
      ].join(" "),
    );
    for (const t of report.tables) {
      log(
        [
          t.table.padEnd(26),
          String(t.rows).padStart(9),
          String(t.inserted).padStart(9),
          String(t.existing).padStart(9),
          String(t.orphans).padStart(8),
        ].join(" "),
      );
    }
    return report;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

function withSlash(prefix) {
  return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  restore(process.argv.slice(2)).then(
    () => process.exit(0),
    (error) => {
      console.error(`db:restore: ${error.message}`);
      process.exit(1);
    },
  );
}
