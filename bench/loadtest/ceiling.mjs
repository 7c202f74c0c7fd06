// Why is `npm run dev` slower than a bare worker under `wrangler dev`? Serves each variant in
// turn, loads one cheap URL with autocannon and reports throughput, latency and the CPU time
// each process of the server used per request (workerd, wrangler's Node process, dev.mjs's).
//   node bench/loadtest/ceiling.mjs [--variants hello,hello-log,dev,...] [--connections 10]
//                                   [--duration 5] [--rounds 1] [--port 8797]
// Run it under the shared lock: `flock /tmp/bench.lock node bench/loadtest/ceiling.mjs`.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { applyLocalD1Migrations } from "../../scripts/lib/local-bindings.mjs";
import { machine, root, wranglerBin } from "../lib/harness.mjs";
import { cpuByProcess, cpuSince, devServerLabel } from "../lib/proc-stat.mjs";

const { values: args } = parseArgs({
  options: {
    variants: {
      type: "string",
      default: "hello,hello-log-warn,dev-inspect,dev,dev-inspect-quiet,dev-quiet,dev-log-warn",
    },
    connections: { type: "string", default: "10" },
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "1" },
    port: { type: "string", default: "8797" },
    url: { type: "string", default: "/api/v1/health" },
  },
});
const port = Number(args.port);
const base = `http://127.0.0.1:${port}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const devScript = path.join(root, "scripts/dev.mjs");
const common = ["--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false"];

/** `wrangler dev` of the bare D1 reference worker, on the migrated (seeded) state `state`. */
function d1Reference(state) {
  return [
    wranglerBin,
    "dev",
    "-c",
    "bench/reference/d1-select/wrangler.toml",
    ...common,
    "--persist-to",
    state,
    "--log-level",
    "warn",
  ];
}

/**
 * Each variant: the command, the URL to load, and where its output goes. "terminal" reads it
 * as a terminal would (a pipe drained by this process); "file" writes it to a file, as
 * `npm run loadtest` does. `migrate`: its state gets the D1 migrations (and their sample
 * characters) before it starts.
 */
const VARIANTS = {
  hello: {
    about: "bare hello-world worker, `wrangler dev --log-level warn`",
    argv: () => [
      wranglerBin,
      "dev",
      "-c",
      "bench/reference/hello/wrangler.toml",
      ...common,
      "--log-level",
      "warn",
    ],
    path: "/",
  },
  "d1-select": {
    about:
      "bare worker reading the character list's 20 rows from D1 per request (bench/reference/d1-select), `wrangler dev --log-level warn`",
    argv: d1Reference,
    path: "/",
    migrate: true,
  },
  "d1-one": {
    about:
      "the same worker reading one narrow row by its key per request (`/one`): what one small D1 round trip adds to a bare request",
    argv: d1Reference,
    path: "/one",
    migrate: true,
  },
  "hello-log": {
    about: "hello-world + one JSON console.log line per request, `wrangler dev` (default log level)",
    argv: () => [wranglerBin, "dev", "-c", "bench/reference/hello-log/wrangler.toml", ...common],
    path: "/log",
  },
  "hello-log-warn": {
    about: "hello-world + one JSON console.log line per request, `wrangler dev --log-level warn`",
    argv: () => [
      wranglerBin,
      "dev",
      "-c",
      "bench/reference/hello-log/wrangler.toml",
      ...common,
      "--log-level",
      "warn",
    ],
    path: "/log",
  },
  "dev-inspect": {
    about: "`npm run dev -- --inspect`: wrangler's CLI with its inspector, as `npm run dev` ran before",
    argv: (state) => [devScript, "--inspect", "--", "--persist-to", state],
    migrate: true,
  },
  dev: {
    about: "`npm run dev`: inspector off (scripts/lib/wrangler-dev.mjs), request log shown",
    argv: (state) => [devScript, "--", "--persist-to", state],
    migrate: true,
  },
  "dev-inspect-quiet": {
    about: "`npm run dev -- --inspect -- --log-level warn`, as `npm run loadtest` ran it before",
    argv: (state) => [devScript, "--inspect", "--", "--persist-to", state, "--log-level", "warn"],
    migrate: true,
  },
  "dev-quiet": {
    about: "`npm run dev -- -- --log-level warn`, as `npm run loadtest` runs it",
    argv: (state) => [devScript, "--", "--persist-to", state, "--log-level", "warn"],
    migrate: true,
  },
  "dev-log-warn": {
    about: "`npm run dev -- -- --var LOG_LEVEL:warn`: the Worker writes no request line",
    argv: (state) => [devScript, "--", "--persist-to", state, "--var", "LOG_LEVEL:warn"],
    migrate: true,
  },
  "wrangler-only": {
    about: "the service under plain `wrangler dev --log-level warn` (no dev.mjs, no emulator, no crons)",
    argv: (state) => [wranglerBin, "dev", ...common, "--persist-to", state, "--log-level", "warn"],
    migrate: true,
  },
};

async function up(url, child, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("server exited early");
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {}
    await sleep(500);
  }
  throw new Error(`no answer from ${url}`);
}

async function measure(name) {
  const variant = VARIANTS[name];
  const scratch = mkdtempSync(path.join(os.tmpdir(), "edge-art-ceiling-"));
  const state = path.join(scratch, "state");
  if (variant.migrate) applyLocalD1Migrations({ persistTo: state });
  const child = spawn(process.execPath, variant.argv(state), {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "1", PORT: String(port), EMULATOR_PORT: String(port + 1) },
  });
  let lines = 0;
  const count = (d) => {
    for (const b of d) if (b === 10) lines += 1;
  };
  child.stdout.on("data", count);
  child.stderr.on("data", count);
  const url = `${base}${variant.path ?? args.url}`;
  try {
    await up(url, child);
    await autocannon({ url, connections: Number(args.connections), duration: 2 }); // warm-up
    await sleep(500);
    const cpuBefore = cpuByProcess(child.pid, devServerLabel);
    const linesBefore = lines;
    const result = await autocannon({
      url,
      connections: Number(args.connections),
      duration: Number(args.duration),
    });
    const used = cpuSince(cpuBefore, cpuByProcess(child.pid, devServerLabel));
    const cpu = Object.fromEntries(Object.entries(used).map(([k, ms]) => [k, ms / result.requests.total]));
    return {
      name,
      about: variant.about,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx + result.errors,
      cpu,
      linesPerRequest: (lines - linesBefore) / result.requests.total,
    };
  } finally {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    await sleep(1500);
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    rmSync(scratch, { recursive: true, force: true });
  }
}

const results = [];
console.log(`machine: ${machine()}`);
for (let round = 0; round < Number(args.rounds); round++) {
  for (const name of args.variants.split(",")) {
    const r = await measure(name);
    results.push(r);
    const cpu = Object.entries(r.cpu)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(", ");
    console.log(
      `${name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx/errors ${r.non2xx}, output lines/req ${r.linesPerRequest.toFixed(2)}; CPU ms/req: ${cpu}; load ${os.loadavg()[0].toFixed(1)}`,
    );
  }
}
console.log("\n| variant | req/s | p50 ms | p99 ms | CPU ms/request by process | output lines/request |");
console.log("|---|---:|---:|---:|---|---:|");
for (const r of results) {
  const cpu = Object.entries(r.cpu)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(", ");
  console.log(
    `| ${r.name}: ${r.about} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${cpu} | ${r.linesPerRequest.toFixed(2)} |`,
  );
}
process.exit(0);
