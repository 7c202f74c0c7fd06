// `npm run dev`: the whole service on this machine with no account, key or network.
// 1. .dev.vars from .dev.vars.example (dev-only secrets) when missing;
// 2. local D1 migrations (schema + sample characters);
// 3. the RunPod emulator on :8788 (image jobs + OpenAI-compatible chat) for each upstream,
//    RUNPOD_API_BASE or LLM_BASE_URL, that .dev.vars (or a `--var`) leaves unset;
// 4. `wrangler dev` on http://127.0.0.1:8787 (Worker, DOs, Queues, D1, R2 all local), with
//    its inspector off (scripts/lib/wrangler-dev.mjs): attached, it costs ~4 ms of CPU per
//    log line, more than the request (bench/loadtest/CEILING.md); `--inspect` turns it on;
//    and with wrangler's local trace collector off (`wranglerEnv`): it cost the cached read a
//    median 15 % of its throughput; `--observe` turns it on;
// 5. the Worker's scheduled handlers on wrangler.toml's cron schedule: wrangler dev fires no
//    crons, but serves miniflare's /cdn-cgi/local/scheduled?cron=... (checked with wrangler
//    4.156; its `--test-scheduled` /__scheduled route is shadowed by the SPA assets here).
// Flags: --postgres (embedded PostgreSQL through the HYPERDRIVE binding instead of D1),
// --no-emulator (no emulator: the upstreams come from .dev.vars or wrangler.toml), --inspect
// (wrangler's CLI with its inspector, for DevTools; also used when a flag after `--` is one
// scripts/lib/wrangler-dev.mjs does not translate), --observe (wrangler's local trace
// collector on, for the local explorer's traces), and anything after `--` goes to wrangler
// (e.g. `npm run dev -- -- --var RATE_API_BURST:1000`).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { startEmulator } from "../emulator/runpod/server.mjs";
import {
  cronsOf,
  emulatorVars,
  nextCronTime,
  parseDevArgs,
  startWorkerInput,
  upstreamsToEmulate,
  wranglerEnv,
} from "./lib/dev-env.mjs";
import { applyPostgresMigrations, startEmbeddedPostgres } from "./lib/postgres.mjs";

const root = path.resolve(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules/wrangler/bin/wrangler.js");
const options = parseDevArgs(process.argv.slice(2));
const { passThrough, usePostgres } = options;
const port = process.env.PORT ?? "8787";
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 8788);
const cleanups = [];

function log(msg) {
  console.log(`[dev] ${msg}`);
}

/** Fires each cron at its next minute, over and over; returns a cleanup that stops them. */
function runCrons(crons) {
  const timers = new Map();
  const ranOnce = new Set();
  const arm = (cron) => {
    const at = nextCronTime(cron, new Date());
    timers.set(
      cron,
      setTimeout(() => fire(cron, at).finally(() => arm(cron)), at.getTime() - Date.now()),
    );
  };
  const fire = async (cron, at) => {
    const query = new URLSearchParams({ cron, time: String(at.getTime()), format: "json" });
    const url = `http://127.0.0.1:${port}/cdn-cgi/local/scheduled?${query}`;
    const res = await fetch(url).catch((error) => ({ ok: false, status: error.message, text: () => "" }));
    if (!res.ok) {
      log(`cron "${cron}" failed: ${res.status} ${await res.text()}`);
    } else if (!ranOnce.has(cron)) {
      ranOnce.add(cron); // say so once, not every minute
      log(`cron "${cron}" ran at ${at.toISOString()}; it runs on schedule from now on`);
    }
  };
  for (const cron of crons) arm(cron);
  if (crons.length > 0) log(`running crons ${crons.map((c) => `"${c}"`).join(", ")} (UTC)`);
  return async () => {
    for (const timer of timers.values()) clearTimeout(timer);
  };
}

/** The command line of `wrangler dev`: the startWorker launcher unless --inspect or a flag it cannot translate. */
function wranglerArgs(flags) {
  const cli = [
    wrangler,
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    port,
    "--show-interactive-dev-session=false",
    ...flags,
  ];
  if (options.inspect) {
    log("wrangler dev with its inspector (DevTools): each log line costs ~4 ms of CPU more");
    return cli;
  }
  const { input, unsupported } = startWorkerInput({ ip: "127.0.0.1", port, root }, flags);
  if (unsupported) {
    log(
      `wrangler dev with its inspector: scripts/lib/wrangler-dev.mjs does not translate ${unsupported.join(" ")}`,
    );
    return cli;
  }
  return [path.join(root, "scripts/lib/wrangler-dev.mjs"), JSON.stringify(input)];
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
  const upstreams = upstreamsToEmulate(options, readFileSync(path.join(root, ".dev.vars"), "utf8"));
  if (upstreams.length > 0) {
    const emulator = await startEmulator({ port: emulatorPort });
    cleanups.push(emulator.close);
    vars.push(...emulatorVars(upstreams, emulator.url));
    log(`RunPod emulator at ${emulator.url} for ${upstreams.join(", ")}`);
  }

  const child = spawn(process.execPath, wranglerArgs([...vars, ...passThrough]), {
    cwd: root,
    stdio: "inherit",
    env: wranglerEnv(process.env, options),
  });
  cleanups.push(runCrons(cronsOf(readFileSync(path.join(root, "wrangler.toml"), "utf8"))));
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
