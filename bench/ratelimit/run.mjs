#!/usr/bin/env node
// Rate-limiter overhead benchmark: one `wrangler dev` of bench/ratelimit/worker.ts, three
// variants of one endpoint, autocannon at 100 connections, results in RESULTS.md.
//   node bench/ratelimit/run.mjs [--duration 10] [--rounds 3] [--connections 100] [--port 8799]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "100" },
    port: { type: "string", default: "8799" },
    clients: { type: "string", default: "1024" },
    probe: { type: "string", default: "600" },
  },
});
const DURATION_S = Number(args.duration);
const WARMUP_S = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const PORT = Number(args.port);
const CLIENTS = Number(args.clients);
const PROBE_ROUNDS = Number(args.probe);
const BASE = `http://127.0.0.1:${PORT}`;

const VARIANTS = [
  { id: "a", name: "no limiter", path: "/plain/hello" },
  { id: "b", name: "no-op Durable Object call", path: "/noop/hello" },
  { id: "c", name: "RateLimiter (real middleware + DO)", path: "/api/v1/hello" },
];

/** 10.x.y.z addresses in rotation: at N req/s each one sees N/CLIENTS req/s, far below 20/s. */
function ipRotation() {
  let i = 0;
  return () => {
    const n = i++ % CLIENTS;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  };
}

function startWorker(persistDir) {
  const wrangler = path.join(root, "node_modules/wrangler/bin/wrangler.js");
  const child = spawn(
    process.execPath,
    [
      wrangler,
      "dev",
      "-c",
      path.join(here, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(PORT),
      "--log-level",
      "warn",
      "--persist-to",
      persistDir,
      "--show-interactive-dev-session=false",
    ],
    { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "1" } },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM"); // the process group this script started: wrangler and its workerd
    } catch {}
  };
  return { child, stop, output: () => output };
}

async function waitReady(worker, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (worker.child.exitCode !== null) throw new Error(`wrangler dev exited:\n${worker.output()}`);
    try {
      const res = await fetch(`${BASE}/plain/hello`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not answer within ${timeoutMs} ms:\n${worker.output()}`);
}

async function checkVariants() {
  for (const v of VARIANTS) {
    const res = await fetch(`${BASE}${v.path}`, { headers: { "CF-Connecting-IP": "10.255.255.1" } });
    if (res.status !== 200) throw new Error(`${v.path}: ${res.status} ${await res.text()}`);
    const limited = res.headers.has("RateLimit-Limit");
    if (limited !== (v.id === "c")) throw new Error(`${v.path}: RateLimit-Limit present=${limited}`);
  }
}

/** Runs for `durationS` seconds, or for exactly `amount` requests when given. */
function load(variant, durationS, amount) {
  const nextIp = ipRotation();
  return autocannon({
    url: BASE,
    connections: CONNECTIONS,
    ...(amount ? { amount } : { duration: durationS }),
    requests: [
      {
        method: "GET",
        path: variant.path,
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, "cf-connecting-ip": nextIp() } }),
      },
    ],
  });
}

/**
 * Paired latency probe: one request at a time, a, b, c, a, b, c, ... so that every variant
 * sees the same machine load; the medians then show what each step adds per request even
 * on a busy machine, where throughput swings from one 10 s run to the next.
 */
async function pairedProbe() {
  const nextIp = ipRotation();
  const samples = Object.fromEntries(VARIANTS.map((v) => [v.id, []]));
  for (let i = 0; i < PROBE_ROUNDS; i++) {
    const ip = nextIp();
    for (const v of VARIANTS) {
      const t0 = performance.now();
      const res = await fetch(`${BASE}${v.path}`, { headers: { "CF-Connecting-IP": ip } });
      await res.arrayBuffer();
      samples[v.id].push(performance.now() - t0);
    }
  }
  const pct = (xs, p) => {
    const sorted = [...xs].sort((x, y) => x - y);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  };
  return Object.fromEntries(
    VARIANTS.map((v) => [v.id, { p50: pct(samples[v.id], 50), p90: pct(samples[v.id], 90) }]),
  );
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x, digits = 0) =>
  x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  const persistDir = mkdtempSync(path.join(os.tmpdir(), "ratelimit-bench-"));
  const worker = startWorker(persistDir);
  const rows = Object.fromEntries(VARIANTS.map((v) => [v.id, []]));
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  let probe;
  try {
    await waitReady(worker);
    await checkVariants();
    for (const v of VARIANTS) {
      // One request per client address first: creating 1024 objects is not the steady state.
      process.stdout.write(`prime ${v.id} (${v.path}): ${CLIENTS} addresses, then ${WARMUP_S}s warm-up\n`);
      await load(v, 0, CLIENTS);
      await load(v, WARMUP_S);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      // a, b, c then c, b, a: a drift in the machine's load does not favour one variant.
      const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
      for (const v of order) {
        const r = await load(v, DURATION_S);
        const row = {
          round,
          rps: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          total: r.requests.total,
          errors: r.errors + r.timeouts,
          non2xx: r.non2xx,
        };
        rows[v.id].push(row);
        process.stdout.write(
          `round ${round} ${v.id}: ${fmt(row.rps)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms  errors ${row.errors}  non-2xx ${row.non2xx}\n`,
        );
      }
    }
    process.stdout.write(`paired probe: ${PROBE_ROUNDS} x (a, b, c), one request at a time\n`);
    probe = await pairedProbe();
    for (const v of VARIANTS) {
      process.stdout.write(
        `probe ${v.id}: p50 ${probe[v.id].p50.toFixed(2)} ms  p90 ${probe[v.id].p90.toFixed(2)} ms\n`,
      );
    }
  } finally {
    worker.stop();
    await new Promise((r) => setTimeout(r, 1000));
    rmSync(persistDir, { recursive: true, force: true });
  }

  const summary = Object.fromEntries(
    VARIANTS.map((v) => {
      const rs = rows[v.id];
      return [
        v.id,
        {
          rps: mean(rs.map((r) => r.rps)),
          p50: mean(rs.map((r) => r.p50)),
          p99: mean(rs.map((r) => r.p99)),
          errors: rs.reduce((a, r) => a + r.errors, 0),
          non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
          total: rs.reduce((a, r) => a + r.total, 0),
        },
      ];
    }),
  );
  const cOverB = summary.c.rps / summary.b.rps;
  const bOverA = summary.b.rps / summary.a.rps;
  const cOverA = summary.c.rps / summary.a.rps;
  console.log(`\nmean of ${ROUNDS} rounds`);
  for (const v of VARIANTS) {
    const s = summary[v.id];
    console.log(
      `(${v.id}) ${fmt(s.rps)} req/s  p50 ${fmt(s.p50, 1)} ms  p99 ${fmt(s.p99, 1)} ms  errors ${s.errors}  non-2xx ${s.non2xx}`,
    );
  }
  console.log(
    `(c)/(b) = ${fmt(cOverB * 100, 1)} %   (b)/(a) = ${fmt(bOverA * 100, 1)} %   (c)/(a) = ${fmt(cOverA * 100, 1)} %`,
  );

  const wranglerVersion = execFileSync(
    process.execPath,
    [path.join(root, "node_modules/wrangler/bin/wrangler.js"), "--version"],
    {
      cwd: root,
    },
  )
    .toString()
    .trim();
  writeFileSync(
    path.join(here, "RESULTS.md"),
    renderResults({
      summary,
      rows,
      cOverB,
      bOverA,
      cOverA,
      startedAt,
      loadBefore,
      loadAfter: os.loadavg(),
      wranglerVersion,
      probe,
    }),
  );
  try {
    execFileSync(
      path.join(root, "node_modules/.bin/biome"),
      ["format", "--write", path.join(here, "RESULTS.md")],
      { cwd: root, stdio: "ignore" },
    );
  } catch {
    // Formatting is cosmetic; the figures are written either way.
  }
  console.log(`wrote ${path.relative(root, path.join(here, "RESULTS.md"))}`);
}

function renderResults({
  summary,
  rows,
  cOverB,
  bOverA,
  cOverA,
  startedAt,
  loadBefore,
  loadAfter,
  wranglerVersion,
  probe,
}) {
  const cpu = os.cpus()[0]?.model ?? "unknown";
  const table = VARIANTS.map((v) => {
    const s = summary[v.id];
    return `| (${v.id}) ${v.name} | \`${v.path}\` | ${fmt(s.rps)} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${s.errors} | ${s.non2xx} | ${fmt(s.total)} |`;
  }).join("\n");
  const perRound = VARIANTS.flatMap((v) =>
    rows[v.id].map(
      (r) => `| ${r.round} | (${v.id}) | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`,
    ),
  ).join("\n");
  const probeTable = VARIANTS.map(
    (v) =>
      `| (${v.id}) ${v.name} | ${probe[v.id].p50.toFixed(2)} | ${probe[v.id].p90.toFixed(2)} | ${(probe[v.id].p50 - probe.a.p50).toFixed(2)} |`,
  ).join("\n");
  return `# Rate-limiter benchmark

Generated by \`node bench/ratelimit/run.mjs --duration ${DURATION_S} --rounds ${ROUNDS} --connections ${CONNECTIONS}\`
on ${startedAt.toISOString()}.

One \`wrangler dev -c bench/ratelimit/wrangler.toml\` (local workerd) serves the same JSON
endpoint three ways; autocannon drives each for ${DURATION_S} s at ${CONNECTIONS} connections,
${ROUNDS} rounds in alternating order (a, b, c, then c, b, a, ...). Before that each variant
gets one request per client address (so every Durable Object exists: object creation is not
the steady state) and a ${WARMUP_S} s warm-up. Every request carries a \`CF-Connecting-IP\`
from a rotation of ${CLIENTS} addresses, so the limiter runs with the production rules
(20/s, burst 40) and lets everything through (each address sees 1/${CLIENTS} of the load):
it measures the limiter's work, not 429s (the non-2xx column shows it).

| variant | path | req/s (mean) | p50 ms | p99 ms | errors | non-2xx | requests |
|---|---|---:|---:|---:|---:|---:|---:|
${table}

- **(c)/(b) = ${fmt(cOverB * 100, 1)} %** (target >= 90 %): the limiter's own cost on top of the round trip.
- **(b)/(a) = ${fmt(bOverA * 100, 1)} %**: what one Durable Object round trip per request costs.
- (c)/(a) = ${fmt(cOverA * 100, 1)} %.

Paired latency probe (${PROBE_ROUNDS} requests per variant, one at a time, interleaved a, b, c):

| variant | p50 ms | p90 ms | p50 over (a) ms |
|---|---:|---:|---:|
${probeTable}

Per round:

| round | variant | req/s | p50 ms | p99 ms | errors | non-2xx |
|---:|---|---:|---:|---:|---:|---:|
${perRound}

Machine: ${os.availableParallelism()} CPUs (\`nproc\`), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM,
Node ${process.version}, wrangler ${wranglerVersion}, ${os.type()} ${os.release()}.
Load average (1/5/15 min) before the run ${loadBefore.map((x) => x.toFixed(2)).join(" / ")}, after it
${loadAfter.map((x) => x.toFixed(2)).join(" / ")}: autocannon and workerd share these CPUs with each other and
with whatever else the machine runs, so compare variants within one run, not across runs.

## Reading the numbers

- (a) -> (b): one RPC per request into a Durable Object. Locally it is a hop between two
  workerd isolates on the same machine; in production it is a network hop to the object's
  home location (same colo for a client that stays near it: about a millisecond; farther
  when the object was created elsewhere) and $0.15 per million calls, about a third of a
  typical API request's cost (reference/cloudflare-limits.md). That is the price of a limit
  that holds across every isolate and location: per-isolate counters would let a client
  multiply its budget by the number of isolates and colos it reaches, and the Workers
  Rate Limiting binding is eventually consistent and per location, not exact. One round
  trip, no storage write, one decision that is exact.
- (b) -> (c): everything the limiter adds on top of the bare round trip: the config lookup
  (cached), parsing the client address, the RPC argument and its validation, the token
  bucket arithmetic, the counters and three response headers.
`;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
