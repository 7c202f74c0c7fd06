// What wrangler dev's local trace collector (`X_LOCAL_OBSERVABILITY`, on by default in wrangler
// dev: every invocation, span and log line streamed to a collector Worker in the same workerd)
// costs the cached read and hello-world through the proxy. Four targets in one run, rounds
// alternated: hello-world and the service (`scripts/dev.mjs`, as `npm run dev` runs it, limits
// raised), each with the collector on and off; 100 connections, `--addresses` and `--hot`
// client addresses as bench/api/run.mjs sends them, 2xx only. Why it matters: `npm run dev` runs
// with it off since session 14 (scripts/lib/dev-env.mjs `wranglerEnv`), and so do the harnesses.
//   node bench/api/local-observability.mjs [--duration 10] [--rounds 3] [--addresses 4096] [--hot 100] [--out FILE]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { freePort } from "../../scripts/lib/postgres.mjs";
import { machine, median, root, startDevService, startWrangler, waitFor } from "../lib/harness.mjs";
import { warmUntilSteady } from "../lib/warm-up.mjs";
import { edgeHeaders } from "./edge-request.mjs";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    addresses: { type: "string", default: "4096" },
    hot: { type: "string", default: "100" },
    out: { type: "string", default: path.join(root, "bench/api/LOCAL-OBSERVABILITY.md") },
  },
});
const DURATION_S = Number(args.duration);
const ROUNDS = Number(args.rounds);
const SPREADS = [Number(args.addresses), Number(args.hot)];
const scratch = mkdtempSync(path.join(os.tmpdir(), "bench-local-obs-"));
const procs = [];
const collector = (on) => ({ X_LOCAL_OBSERVABILITY: on ? "true" : "false" });

async function startService(label, on) {
  const { proc, base } = await startDevService(root, path.join(scratch, label), { env: collector(on) });
  procs.push(proc);
  return `${base}/api/v1/characters/popular`;
}

async function startHello(label, on) {
  const port = await freePort();
  const proc = startWrangler(
    path.join(root, "bench/reference/hello/wrangler.toml"),
    port,
    path.join(scratch, label),
    [],
    collector(on),
  );
  procs.push(proc);
  await waitFor(`http://127.0.0.1:${port}/`, proc);
  return `http://127.0.0.1:${port}/`;
}

async function load(url, addresses, durationS = DURATION_S) {
  const { pathname } = new URL(url);
  const r = await autocannon({
    url,
    connections: 100,
    duration: durationS,
    requests: [
      {
        method: "GET",
        path: pathname,
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, ...edgeHeaders(addresses), "accept-encoding": "gzip, deflate, br" },
        }),
      },
    ],
  });
  return {
    rps: r["2xx"] / (r.duration || durationS),
    p99: r.latency.p99,
    bad: r.non2xx + r.errors + r.timeouts,
  };
}

async function main() {
  const load0 = os.loadavg()[0];
  const targets = [
    { id: "hello-on", name: "hello-world, collector on", url: await startHello("hello-on", true) },
    { id: "hello-off", name: "hello-world, collector off", url: await startHello("hello-off", false) },
    { id: "popular-on", name: "popular, collector on", url: await startService("popular-on", true) },
    { id: "popular-off", name: "popular, collector off", url: await startService("popular-off", false) },
  ];
  const warmups = [];
  for (const t of targets) {
    await fetch(t.url, { headers: { "CF-Connecting-IP": "10.255.0.1" } });
    const figures = await warmUntilSteady(async (s) => (await load(t.url, SPREADS[0], s)).rps, {
      tolerance: 0.1,
    });
    warmups.push(`${t.id}: ${figures.map((f) => f.toFixed(0)).join(", ")} req/s`);
  }
  const rows = []; // { round, addresses, id, rps, p99, bad }
  for (let round = 0; round < ROUNDS; round++) {
    for (const addresses of SPREADS) {
      for (const t of round % 2 ? [...targets].reverse() : targets) {
        rows.push({ round, addresses, id: t.id, ...(await load(t.url, addresses)) });
      }
    }
  }
  const of = (id, addresses) => rows.filter((r) => r.id === id && r.addresses === addresses);
  const lines = [];
  for (const addresses of SPREADS) {
    for (const t of targets) {
      const rs = of(t.id, addresses);
      lines.push(
        `| ${addresses} | ${t.name} | ${median(rs.map((r) => r.rps)).toFixed(0)} | ${median(rs.map((r) => r.p99))} | ${rs.map((r) => `${r.rps.toFixed(0)} / ${r.p99}`).join("; ")} | ${rs.reduce((n, r) => n + r.bad, 0)} |`,
      );
    }
  }
  const ratio = (a, b, addresses) => {
    const as = of(a, addresses);
    const bs = of(b, addresses);
    return as.map((r, i) => (r.rps / bs[i].rps).toFixed(2)).join(", ");
  };
  const ratios = SPREADS.map(
    (addresses) =>
      `- ${addresses} addresses, per round: popular off / on ${ratio("popular-off", "popular-on", addresses)}; hello-world off / on ${ratio("hello-off", "hello-on", addresses)}; popular / hello-world, both on ${ratio("popular-on", "hello-on", addresses)}; both off ${ratio("popular-off", "hello-off", addresses)}`,
  );
  const report = `# wrangler dev's local trace collector: on against off

Command: \`node bench/api/local-observability.mjs --duration ${DURATION_S} --rounds ${ROUNDS} --addresses ${SPREADS[0]} --hot ${SPREADS[1]}\`
(${new Date().toISOString()}). Machine: ${machine()}; load average at start ${load0.toFixed(2)}.
Path: \`wrangler dev\`'s proxy. hello-world by \`wrangler dev\`, the service by \`scripts/dev.mjs\`
(as \`npm run dev\` runs it, rate limits raised so nothing is refused); each with
\`X_LOCAL_OBSERVABILITY\` true and false. 100 connections, every request from a random one of the
addresses with the edge's \`CF-Ray\` (edge-request.mjs) and a browser's \`Accept-Encoding\`;
${ROUNDS} rounds of ${DURATION_S} s, the order reversed every other round, 2xx only.

Warm-up (until a 4-s window is within 10 % of the one before): ${warmups.join("; ")}.

| addresses | target | 2xx req/s (median) | p99 ms (median) | each round: req/s / p99 ms | non-2xx + errors |
|---|---|---:|---:|---|---:|
${lines.join("\n")}

Ratios:
${ratios.join("\n")}
`;
  writeFileSync(args.out, report);
  console.log(report);
}

try {
  await main();
} finally {
  for (const p of procs) p.stop();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(0);
