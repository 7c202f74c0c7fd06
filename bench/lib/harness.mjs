// Shared benchmark plumbing: start a `wrangler dev` (or `npm run dev`) server in its own
// process group, wait for it, load it with autocannon, summarise, stop it.
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { freePort } from "../../scripts/lib/postgres.mjs";

export const root = path.resolve(import.meta.dirname, "../..");
export const wranglerBin = path.join(root, "node_modules/wrangler/bin/wrangler.js");

/** Starts `node <script> ...args` detached, collecting output; `stop()` kills the whole group. */
export function startProcess(args, { env = {}, cwd = root } = {}) {
  const child = spawn(process.execPath, args, {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // wrangler's local trace collector off for every target, as `npm run dev` runs the service
    // (scripts/lib/dev-env.mjs `wranglerEnv`); X_LOCAL_OBSERVABILITY=true measures with it on.
    env: {
      ...process.env,
      CI: "1",
      X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
      ...env,
    },
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  return {
    child,
    output: () => output,
    stop() {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
    },
  };
}

/** `wrangler dev -c <config>` on a port with its own local state; `env` adds to its environment. */
export function startWrangler(config, port, persistTo, extra = [], env = {}) {
  return startProcess(
    [
      wranglerBin,
      "dev",
      "-c",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      persistTo,
      "--log-level",
      "warn",
      "--show-interactive-dev-session=false",
      ...extra,
    ],
    { env },
  );
}

/**
 * The service of checkout `dir` as `npm run dev` runs it (its `scripts/dev.mjs`, emulator
 * included), rate limits raised so the limiter runs its whole path and refuses nothing, local
 * state under `persistTo`; `vars` are more `NAME:VALUE` bindings, `env` adds to its environment.
 * Resolves once `/api/v1/health` answers, to its process and base URL.
 */
export async function startDevService(dir, persistTo, { vars = [], env = {} } = {}) {
  const port = await freePort();
  const proc = startProcess(
    [
      path.join(dir, "scripts/dev.mjs"),
      "--",
      "--persist-to",
      persistTo,
      "--log-level",
      "warn",
      ...["RATE_API_PER_S:1000000", "RATE_API_BURST:1000000", ...vars].flatMap((v) => ["--var", v]),
    ],
    { cwd: dir, env: { PORT: String(port), EMULATOR_PORT: String(await freePort()), ...env } },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${base}/api/v1/health`, proc);
  } catch (error) {
    proc.stop();
    throw error;
  }
  return { proc, base };
}

/** Polls `url` until it answers 2xx (bounded). */
export async function waitFor(url, proc, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc?.child.exitCode !== null && proc?.child.exitCode !== undefined) {
      throw new Error(`server exited early:\n${proc.output().slice(0, 3000)}`);
    }
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${url}:\n${proc?.output().slice(-2000) ?? ""}`);
}

/** One autocannon run; returns the figures every RESULTS table uses. */
export async function load(url, { connections = 100, duration = 10, headers = {}, setupClient } = {}) {
  const result = await autocannon({ url, connections, duration, headers, setupClient });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

/** CPU time (ms) used so far by the processes of one process group (Linux /proc), or null. */
export function groupCpuMs(pgid) {
  try {
    const ticksPerS = Number(execFileSync("getconf", ["CLK_TCK"]).toString()) || 100;
    let ticks = 0;
    for (const fields of groupStats(pgid)) ticks += Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / ticksPerS;
  } catch {
    return null;
  }
}

/** Resident memory (MiB) of the processes of one process group (Linux /proc), or null. */
export function groupRssMb(pgid) {
  try {
    const pageBytes = Number(execFileSync("getconf", ["PAGESIZE"]).toString()) || 4096;
    let pages = 0;
    for (const fields of groupStats(pgid)) pages += Number(fields[21]);
    return (pages * pageBytes) / 2 ** 20;
  } catch {
    return null;
  }
}

/** `/proc/<pid>/stat` fields after the command name (state ppid pgrp ... utime stime ... rss) per process of the group. */
function groupStats(pgid) {
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) found.push(fields);
    } catch {}
  }
  return found;
}

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * `field` of `target` over `ref`'s in the same round, one ratio per round of `spread` (rows of
 * `{ round, spread, target, [field] }`; a round without `ref` gives none): how every API run
 * reads a target against its reference, the rounds alternated so both saw the same machine.
 */
export function ratiosPerRound(rows, spread, target, ref, field) {
  const ratios = [];
  for (const row of rows) {
    if (row.spread !== spread || row.target !== target) continue;
    const refRow = rows.find((r) => r.spread === spread && r.target === ref && r.round === row.round);
    if (refRow) ratios.push(row[field] / refRow[field]);
  }
  return ratios;
}

export function machine() {
  return `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load avg ${os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(" ")}`;
}

export function table(rows) {
  const lines = ["| target | req/s | p50 ms | p99 ms | errors | non-2xx |", "|---|---:|---:|---:|---:|---:|"];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`);
  }
  return lines.join("\n");
}
