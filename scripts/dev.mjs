// `npm run dev`: the whole service on this machine with no account, key or network.
// 1. .dev.vars from .dev.vars.example (dev-only secrets) when missing;
// 2. local D1 migrations (schema + sample characters);
// 3. the RunPod emulator on :8788 (image jobs + OpenAI-compatible chat);
// 4. `wrangler dev` on http://127.0.0.1:8787 (Worker, DOs, Queues, D1, R2 all local).
// Flags: --postgres (embedded PostgreSQL through the HYPERDRIVE binding instead of D1),
// --no-emulator (use RUNPOD_API_BASE / LLM_BASE_URL from .dev.vars), and anything after
// `--` goes to wrangler (e.g. `npm run dev -- -- --var RATE_API_BURST:1000`).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import path from "node:path";
import { startEmulator } from "../emulator/runpod/server.mjs";
import { applyPostgresMigrations, startEmbeddedPostgres } from "./lib/postgres.mjs";

const root = path.resolve(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules/wrangler/bin/wrangler.js");
const args = process.argv.slice(2);
const passThrough = args.includes("--") ? args.slice(args.indexOf("--") + 1) : [];
const usePostgres = args.includes("--postgres");
const useEmulator = !args.includes("--no-emulator");
const port = process.env.PORT ?? "8787";
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 8788);
const cleanups = [];

function log(msg) {
  console.log(`[dev] ${msg}`);
}

async function main() {
  if (!existsSync(path.join(root, ".dev.vars"))) {
    copyFileSync(path.join(root, ".dev.vars.example"), path.join(root, ".dev.vars"));
    log("created .dev.vars from .dev.vars.example (dev-only secrets)");
  }

  // Migrate the same local state wrangler will serve (`-- --persist-to DIR` moves it).
  const persistAt = passThrough.indexOf("--persist-to");
  const persist = persistAt >= 0 ? ["--persist-to", passThrough[persistAt + 1]] : [];
  const migrate = spawnSync(
    process.execPath,
    [wrangler, "d1", "migrations", "apply", "DB", "--local", ...persist],
    {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, CI: "true" },
    },
  );
  if (migrate.status !== 0) throw new Error("applying local D1 migrations failed");

  const vars = [];
  if (usePostgres) {
    const pg = await startEmbeddedPostgres({ port: 54329 });
    cleanups.push(pg.stop);
    await applyPostgresMigrations(pg.url);
    vars.push("--var", "DB_BACKEND:postgres");
    log(`embedded PostgreSQL at ${pg.url.replace(/:[^:@/]+@/, ":***@")}`);
  }
  if (useEmulator) {
    const emulator = await startEmulator({ port: emulatorPort });
    cleanups.push(emulator.close);
    vars.push(
      "--var",
      `RUNPOD_API_BASE:${emulator.url}/v2`,
      "--var",
      `LLM_BASE_URL:${emulator.url}/openai/v1`,
    );
    log(`RunPod emulator at ${emulator.url}`);
  }

  const child = spawn(
    process.execPath,
    [
      wrangler,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      port,
      "--show-interactive-dev-session=false",
      ...vars,
      ...passThrough,
    ],
    { cwd: root, stdio: "inherit", env: process.env },
  );
  const stop = async (code) => {
    child.kill("SIGTERM");
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    process.exit(code);
  };
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
  child.on("exit", (code) => stop(code ?? 0));
}

main().catch(async (error) => {
  console.error(`[dev] ${error.message}`);
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  process.exit(1);
});
