// API benchmark (issue 15): the request path against the platform's own cost.
// Through `wrangler dev` (the path `npm run dev` serves), at 100 connections, every request from
// a random one of `--addresses` client addresses (`CF-Connecting-IP`, which wrangler dev passes
// through; with a `CF-Ray` as the edge sends: edge-request.mjs), and again with `--hot` addresses, each request with a browser's `Accept-Encoding`:
//   GET /api/v1/characters/popular (warm cache)  vs a bare hello-world Worker
//   GET /api/v1/characters                       vs a bare Worker running the same D1 SELECT
// All served in the same run, rounds alternated (forward, then reversed), 2xx only. Then popular and
// its references again at one equal offered rate (half the service's own throughput), for the
// latency the service adds at a load it carries rather than at saturation (`equalLoadRounds`).
// `--before <checkout>` also serves another checkout of the service (e.g. main at e36d2db) in the
// same run, so "before" and "after" see the same machine. The service's rate limits are raised so
// that the limiter runs its whole path and nothing is refused. Writes bench/api/RESULTS.md.
// `--popular-only` leaves out the list and its bare D1 reference (the cached read's runs only, in
// half the time); their columns then read n/a.
// `--every-line` also serves this checkout with `LOG_SAMPLE_RATE=1` (every request logged, as before
// session 7's sampling), so the request log's cost under `wrangler dev` is measured in the same run.
//   node bench/api/run.mjs [--duration 10] [--rounds 3] [--connections 100] [--addresses 4096] [--hot 100] [--before DIR] [--every-line] [--popular-only]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import autocannon from "autocannon";
import { freePort } from "../../scripts/lib/postgres.mjs";
import { writeReferenceConfig } from "../lib/assets-reference.mjs";
import {
  machine,
  median,
  ratiosPerRound,
  root,
  startDevService,
  startWrangler,
  waitFor,
  wranglerBin,
} from "../lib/harness.mjs";
import { pacedLoad } from "../lib/paced-load.mjs";
import { warmUntilSteady } from "../lib/warm-up.mjs";
import { quantile } from "../loadtest/stats.mjs";
import { edgeHeaders } from "./edge-request.mjs";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "100" },
    addresses: { type: "string", default: "4096" },
    hot: { type: "string", default: "100" },
    before: { type: "string" },
    "every-line": { type: "boolean", default: false },
    "popular-only": { type: "boolean", default: false },
    out: { type: "string", default: path.join(root, "bench/api/RESULTS.md") },
  },
});
const DURATION_S = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const SPREADS = [
  { id: "many", addresses: Number(args.addresses) },
  { id: "hot", addresses: Number(args.hot) },
];
const COMMAND = `node bench/api/run.mjs --duration ${DURATION_S} --rounds ${ROUNDS} --connections ${CONNECTIONS} --addresses ${SPREADS[0].addresses} --hot ${SPREADS[1].addresses}${args.before ? ` --before ${args.before}` : ""}${args["every-line"] ? " --every-line" : ""}${args["popular-only"] ? " --popular-only" : ""}`;
const scratch = mkdtempSync(path.join(os.tmpdir(), "bench-api-"));
const procs = [];
const base = (port) => `http://127.0.0.1:${port}`;

function applyMigrations(config, persistTo) {
  const r = spawnSync(
    process.execPath,
    [wranglerBin, "d1", "migrations", "apply", "DB", "--local", "-c", config, "--persist-to", persistTo],
    { cwd: root, env: { ...process.env, CI: "1" }, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`migrations failed: ${r.stderr}`);
}

/** The service of checkout `dir` as `npm run dev` runs it, limits raised so nothing is refused. */
async function startService(dir, label, vars = []) {
  const { proc, base } = await startDevService(dir, path.join(scratch, label), { vars });
  procs.push(proc);
  return base;
}

/** A reference Worker under `wrangler dev` with its own local state; the URL of `pathname` once it answers. */
async function startReference(config, label, pathname = "/") {
  const port = await freePort();
  const proc = startWrangler(config, port, path.join(scratch, label));
  procs.push(proc);
  const url = `${base(port)}${pathname}`;
  await waitFor(url, proc);
  return url;
}

/**
 * Two like-for-like references for the cached read: a bare Worker answering popular's exact
 * bytes and headers (24 KB, not hello-world's 5), once alone and once with the service's
 * `[assets]` config (under `wrangler dev` every request then passes the assets router
 * Worker first). What separates the service from them is its own work.
 */
async function startReplays(serviceUrl) {
  const res = await fetch(`${serviceUrl}/api/v1/characters/popular`, {
    headers: { "CF-Connecting-IP": "10.255.0.2" },
  });
  if (!res.ok) throw new Error(`popular: ${res.status}`);
  // fetch() asked for gzip and decoded it: the plain body, and the service's headers without
  // the encoding (the replay sets its own, like the service, per request).
  const body = await res.text();
  const skip = new Set([
    "content-length",
    "content-encoding",
    "date",
    "x-request-id",
    "ratelimit-remaining",
    "ratelimit-reset",
  ]);
  const headers = Object.fromEntries([...res.headers].filter(([name]) => !skip.has(name)));
  const gzip = gzipSync(body).toString("base64");
  const dir = path.join(scratch, "replay");
  mkdirSync(dir, { recursive: true });
  // Like the service: the gzipped bytes to a client that takes gzip, the plain ones otherwise.
  writeFileSync(
    path.join(dir, "worker.js"),
    `const BODY = ${JSON.stringify(body)};
const GZIP = Uint8Array.from(atob(${JSON.stringify(gzip)}), (c) => c.charCodeAt(0));
const HEADERS = ${JSON.stringify(headers)};
const GZIP_HEADERS = { ...HEADERS, "content-encoding": "gzip" };
export default {
  fetch: (request) =>
    /gzip/.test(request.headers.get("accept-encoding") ?? "")
      ? new Response(GZIP, { headers: GZIP_HEADERS, encodeBody: "manual" })
      : new Response(BODY, { headers: HEADERS }),
};
`,
  );
  const configs = {
    plain: writeReferenceConfig(dir, "plain.toml", {
      name: "bench-replay",
      mainPath: "worker.js",
      withAssets: false,
    }),
    assets: writeReferenceConfig(dir, "assets.toml", {
      name: "bench-replay-assets",
      mainPath: "worker.js",
      withAssets: true,
    }),
  };
  const urls = {};
  for (const [id, config] of Object.entries(configs)) {
    urls[id] = await startReference(config, `replay-${id}`, "/api/v1/characters/popular");
  }
  return urls;
}

/** A request's headers: a random client of `addresses`, as the edge sends it (edge-request.mjs). */
function clientHeaders(addresses) {
  // Every client of the real service (browsers, fetch, curl --compressed) says what it decodes.
  return { ...edgeHeaders(addresses), "accept-encoding": "gzip, deflate, br" };
}

/** One open-loop run at `rate` requests/s (bench/lib/paced-load.mjs), in loadOnce's figures. */
async function pacedOnce(url, { addresses, durationS, rate }) {
  const r = await pacedLoad(url, { rate, durationS, headers: () => clientHeaders(addresses) });
  return {
    rps2xx: r.ok / r.seconds,
    p50: Math.round(quantile(r.latencies, 0.5)),
    p99: Math.round(quantile(r.latencies, 0.99)),
    errors: r.errors,
    non2xx: r.non2xx,
    total: r.sent,
  };
}

/** One autocannon run; throughput counts 2xx answers only. */
async function loadOnce(url, { addresses, durationS, connections = CONNECTIONS }) {
  const { pathname } = new URL(url);
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    requests: [
      {
        method: "GET",
        path: pathname,
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...clientHeaders(addresses) } }),
      },
    ],
  });
  return {
    rps2xx: result["2xx"] / (result.duration || durationS),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

async function main() {
  const popularOnly = args["popular-only"];
  const d1Config = path.join(root, "bench/reference/d1-select/wrangler.toml");
  if (!popularOnly) applyMigrations(d1Config, path.join(scratch, "d1"));
  // One at a time: wrangler instances starting together race for their helper ports.
  const services = [{ label: "after", url: await startService(root, "after") }];
  if (args.before)
    services.unshift({ label: "before", url: await startService(path.resolve(args.before), "before") });
  // What the request log costs here: the same code with every routine request logged too.
  if (args["every-line"])
    services.push({
      label: "every-line",
      url: await startService(root, "every-line", ["LOG_SAMPLE_RATE:1"]),
    });
  const hello = await startReference(path.join(root, "bench/reference/hello/wrangler.toml"), "hello");
  // What one rate-limiter call costs through the same proxy: hello-world plus one Durable Object
  // call per request, shaped like the limiter's (bench/reference/hello-rpc).
  const rpc = await startReference(
    path.join(root, "bench/reference/hello-rpc/wrangler.toml"),
    "hello-rpc",
    "/rpc",
  );
  const d1 = popularOnly ? null : await startReference(d1Config, "d1");

  const replay = await startReplays(services.find((s) => s.label === "after").url);

  const targets = [
    { id: "hello", name: "bare hello-world worker", url: hello },
    { id: "replay", name: "bare worker replaying popular's bytes", url: replay.plain },
    { id: "replay-assets", name: "the same, with the service's [assets]", url: replay.assets },
    { id: "rpc", name: "hello-world plus one limiter-shaped Durable Object call", url: rpc },
    ...(popularOnly ? [] : [{ id: "d1", name: "bare worker, one D1 SELECT", url: d1 }]),
    ...services.flatMap((s) => [
      {
        id: `popular-${s.label}`,
        name: `${s.label}: GET /api/v1/characters/popular`,
        url: `${s.url}/api/v1/characters/popular`,
      },
      ...(popularOnly
        ? []
        : [
            {
              id: `list-${s.label}`,
              name: `${s.label}: GET /api/v1/characters`,
              url: `${s.url}/api/v1/characters`,
            },
          ]),
    ]),
  ];
  // Each target warm before the rounds (cache, D1 pages, V8 tiering up: bench/lib/warm-up.mjs), until
  // its throughput holds within 10 % from one window to the next: through the proxy a window moves more.
  const warmups = [];
  for (const t of targets) {
    const res = await fetch(t.url, { headers: { "CF-Connecting-IP": "10.255.0.1" } });
    if (!res.ok) throw new Error(`${t.url}: ${res.status} ${await res.text()}`);
    const figures = await warmUntilSteady(
      async (durationS) => (await loadOnce(t.url, { addresses: SPREADS[0].addresses, durationS })).rps2xx,
      { tolerance: 0.1 },
    );
    warmups.push({ target: t.id, figures });
    console.log(`warm-up ${t.id}: ${figures.map((f) => fmt(f)).join(" -> ")} 2xx/s`);
  }

  const rows = []; // { round, spread, target, load, ...figures }
  const loads = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const spread of SPREADS) {
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const t of order) {
        const loadAvg = os.loadavg()[0];
        loads.push(loadAvg);
        const r = await loadOnce(t.url, { addresses: spread.addresses, durationS: DURATION_S });
        rows.push({ round, spread: spread.id, target: t.id, loadAvg, ...r });
        console.log(
          `round ${round} ${spread.id} ${t.id}: ${fmt(r.rps2xx)} 2xx/s p50 ${r.p50} p99 ${r.p99} errors ${r.errors} non-2xx ${r.non2xx} (load ${loadAvg.toFixed(1)})`,
        );
      }
    }
  }
  const equal = await equalLoadRounds(targets, rows);
  writeFileSync(args.out, render({ targets, services, rows, loads, equal, warmups }));
  console.log(`wrote ${path.relative(root, args.out)}`);
}

/** Targets of the equal-load rounds: the cached read as shipped and the references it is held against. */
const EQUAL_LOAD_TARGETS = ["hello", "replay-assets", "popular-after"];

/**
 * The same offered load for popular and its references: at 100 connections as fast as answers come
 * back, a target's mean latency is the connections over its throughput (Little's law), so a p99
 * ratio there mostly restates the throughput ratio. Here each spread is offered half the rate the
 * service itself reached in the rounds above (its median 2xx/s), open loop, a load all three
 * carry, so the p99 ratio is the latency the service adds to a request at that load.
 */
async function equalLoadRounds(targets, rows) {
  const chosen = targets.filter((t) => EQUAL_LOAD_TARGETS.includes(t.id));
  const equal = [];
  for (const spread of SPREADS) {
    const reached = median(
      rows.filter((r) => r.spread === spread.id && r.target === "popular-after").map((r) => r.rps2xx),
    );
    const rate = Math.max(10, Math.round(reached / 2 / 10) * 10);
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? chosen : [...chosen].reverse();
      for (const t of order) {
        const r = await pacedOnce(t.url, { addresses: spread.addresses, durationS: DURATION_S, rate });
        equal.push({ round, spread: spread.id, target: t.id, rate, ...r });
        console.log(
          `equal load ${rate}/s round ${round} ${spread.id} ${t.id}: ${fmt(r.rps2xx)} 2xx/s p50 ${r.p50} p99 ${r.p99} non-2xx ${r.non2xx}`,
        );
      }
    }
  }
  return equal;
}

function render({ targets, services, rows, loads, equal, warmups }) {
  const pick = (spread, target, field) =>
    median(rows.filter((r) => r.spread === spread && r.target === target).map((r) => r[field]));
  const perRound = (spread, target, ref, field) => ratiosPerRound(rows, spread, target, ref, field);
  const ratioLines = [];
  for (const spread of SPREADS) {
    for (const s of services) {
      const thr = median(perRound(spread.id, `popular-${s.label}`, "hello", "rps2xx"));
      const p99 = median(perRound(spread.id, `popular-${s.label}`, "hello", "p99"));
      const list = median(perRound(spread.id, `list-${s.label}`, "d1", "rps2xx"));
      const listP99 = median(perRound(spread.id, `list-${s.label}`, "d1", "p99"));
      const like = median(perRound(spread.id, `popular-${s.label}`, "replay-assets", "rps2xx"));
      const likeP99 = median(perRound(spread.id, `popular-${s.label}`, "replay-assets", "p99"));
      ratioLines.push(
        `| ${spread.id} (${spread.addresses} addresses) | ${s.label} | ${fmt(thr, 2)} | ${fmt(p99, 2)}x | ${fmt(list, 2)} | ${fmt(listP99, 2)}x | ${fmt(like, 2)} / ${fmt(likeP99, 2)}x |`,
      );
    }
  }
  const rpcLines = SPREADS.map(
    (spread) =>
      `${spread.addresses} addresses: ${fmt(median(perRound(spread.id, "rpc", "hello", "rps2xx")), 2)} of its throughput, p99 ${fmt(median(perRound(spread.id, "rpc", "hello", "p99")), 2)}x`,
  );
  /** Popular's p99 over `ref`'s in the same equal-load round, the median over rounds. */
  const equalP99Ratio = (spread, ref) =>
    median(
      equal
        .filter((r) => r.spread === spread && r.target === "popular-after")
        .map(
          (r) =>
            r.p99 / equal.find((x) => x.spread === spread && x.target === ref && x.round === r.round).p99,
        ),
    );
  const equalLines = SPREADS.flatMap((spread) => {
    const ofSpread = equal.filter((r) => r.spread === spread.id);
    const rate = ofSpread[0]?.rate;
    return EQUAL_LOAD_TARGETS.map((id) => {
      const mine = ofSpread.filter((r) => r.target === id);
      const med = (field) => median(mine.map((r) => r[field]));
      const vs =
        id === "popular-after"
          ? `${fmt(equalP99Ratio(spread.id, "hello"), 2)}x / ${fmt(equalP99Ratio(spread.id, "replay-assets"), 2)}x`
          : "-";
      return `| ${spread.id} | ${rate} | ${targets.find((t) => t.id === id).name} | ${fmt(med("rps2xx"))} | ${fmt(med("p50"))} | ${fmt(med("p99"))} | ${vs} | ${mine.reduce((a, r) => a + r.non2xx + r.errors, 0)} |`;
    });
  });
  const figureLines = [];
  for (const spread of SPREADS) {
    for (const t of targets) {
      const non2xx = rows
        .filter((r) => r.spread === spread.id && r.target === t.id)
        .reduce((a, r) => a + r.non2xx + r.errors, 0);
      figureLines.push(
        `| ${spread.id} | ${t.name} | ${fmt(pick(spread.id, t.id, "rps2xx"))} | ${fmt(pick(spread.id, t.id, "p50"))} | ${fmt(pick(spread.id, t.id, "p99"))} | ${non2xx} |`,
      );
    }
  }
  return `# API benchmark: the request path against a bare worker

Generated by \`npm run bench\` (\`${COMMAND}\`) on ${new Date().toISOString()}.
Machine: ${machine()}; load average (1 min) during the runs: min ${fmt(Math.min(...loads), 1)}, median ${fmt(median(loads), 1)}, max ${fmt(Math.max(...loads), 1)}.

Every target is served by \`wrangler dev\` (each service through its checkout's \`scripts/dev.mjs\`, as \`npm run dev\`
runs it, real rate limiter in the path with limits raised so nothing is refused), every one with wrangler's local
trace collector ${process.env.X_LOCAL_OBSERVABILITY === "true" ? "**on** (`X_LOCAL_OBSERVABILITY=true`)" : "off, as `npm run dev` runs (bench/api/LOCAL-OBSERVABILITY.md)"}, and loaded by autocannon at
${CONNECTIONS} connections for ${DURATION_S} s, every request with a browser's \`Accept-Encoding: gzip, deflate, br\`
and from a random client address (\`CF-Connecting-IP\`, with a \`CF-Ray\` as the edge adds to every request: bench/api/edge-request.mjs) of
${SPREADS.map((s) => `${s.addresses} ("${s.id}")`).join(" or ")}. ${ROUNDS} rounds, targets in alternating order (forward, then
reversed); throughput counts 2xx answers only. Ratios are taken within each round against the reference
served in that round, then the median over rounds. Before the rounds each target was loaded the same way
(${SPREADS[0].addresses} addresses) in 4-s windows until its throughput moved by at most 10 % from one window to the next
(at least 8 s, at most 48 s; bench/lib/warm-up.mjs), so the rounds measure warm isolates, not V8 tiering up;
2xx/s per window: ${warmups.map((w) => `${w.target} ${w.figures.map((f) => fmt(f)).join(" -> ")}`).join("; ")}.

The last column compares popular with a like-for-like reference: a bare Worker replaying popular's exact
bytes and headers (\`replay\`: 24 KB, gzipped to about 10 KB for a client that takes gzip, as the service does;
hello-world answers 5 bytes), served with the service's own
\`[assets]\` config (\`replay-assets\`: under \`wrangler dev\` every request then passes the assets router Worker
before the Worker). Both references are in the tables below; the aims stay against hello-world.

| address spread | service | popular / hello-world 2xx throughput (aim >= 0.60) | popular p99 / hello-world p99 (aim <= 1.5x) | list / bare D1 2xx throughput (aim >= 0.70) | list p99 / bare D1 p99 | popular / replay with [assets]: throughput / p99 |
|---|---|---:|---:|---:|---:|---:|
${ratioLines.join("\n")}

For scale, what one rate-limiter call costs on this path: hello-world plus one Durable Object call per request,
shaped like the limiter's (\`rpc\`, bench/reference/hello-rpc: one of 16 warm objects by the address, the same
arguments and result, an object that only counts), against hello-world in the same rounds: ${rpcLines.join("; ")}.
The service makes such a call for a client's first request in its isolate's lease window and then once per
\`RATE_API_LEASE\` + 1 requests, so the many-address spread pays it for about half of its requests.

**At equal load.** At ${CONNECTIONS} connections as fast as answers come back, each target's mean latency is the
connections over its throughput (Little's law), so the p99 ratio above largely restates the throughput ratio (a
service at 0.60 of hello-world's throughput has 1.67x its mean latency before any tail of its own). So each
spread is also offered one fixed rate, half of what the service reached above, for ${DURATION_S} s per round
(${ROUNDS} rounds, alternated), open loop (bench/lib/paced-load.mjs: request i leaves at i / rate whatever is still
unanswered, and its latency runs from that moment, so a stall counts for every request it delays): every target
carries it, and the p99 ratio is what the service adds to a request's latency at that load. Medians over rounds;
the ratios are per round, then the median.

| spread | offered req/s | target | 2xx/s | p50 ms | p99 ms | popular p99 / hello-world p99, / replay with [assets] p99 | non-2xx + errors |
|---|---:|---|---:|---:|---:|---:|---:|
${equalLines.join("\n")}

Medians over rounds:

| spread | target | 2xx/s | p50 ms | p99 ms | non-2xx + errors (all rounds) |
|---|---|---:|---:|---:|---:|
${figureLines.join("\n")}

Per run:

| round | spread | target | 2xx/s | p50 ms | p99 ms | non-2xx | errors | load avg (1 min) before |
|---:|---|---|---:|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${r.round} | ${r.spread} | ${r.target} | ${fmt(r.rps2xx)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} | ${r.loadAvg.toFixed(1)} |`).join("\n")}

Per equal-load run:

| round | spread | offered req/s | target | 2xx/s | p50 ms | p99 ms | non-2xx | errors |
|---:|---|---:|---|---:|---:|---:|---:|---:|
${equal.map((r) => `| ${r.round} | ${r.spread} | ${r.rate} | ${r.target} | ${fmt(r.rps2xx)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`).join("\n")}
`;
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const p of procs) p.stop();
    setTimeout(() => rmSync(scratch, { recursive: true, force: true }), 1000);
  });
