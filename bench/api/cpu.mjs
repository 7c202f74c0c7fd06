// CPU time per request in the worker process (workerd), not through wrangler dev's proxy,
// per route, next to a bare worker's; and a CPU profile of the service's isolate.
// Each target is the bundle `wrangler deploy` would upload, run by Miniflare directly
// (bench/ws/miniflare-server.mjs); clients talk to workerd's own socket. CPU is read from
// /proc for the workerd process alone (utime + stime), before and after a fixed number of
// requests, so the figure is CPU, not wall time, and holds up on a busy machine better
// than throughput does. The profile comes from workerd's V8 inspector (Profiler domain,
// 100 µs sampling) while the route is loaded; it covers JavaScript in the isolate, and
// "(program)"/"(idle)"/"(garbage collector)" are V8's own buckets.
//   node bench/api/cpu.mjs [--requests 4000] [--rounds 3] [--addresses 4096] [--before DIR] [--out FILE]
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { freePort } from "../../scripts/lib/postgres.mjs";
import { writeReferenceConfig } from "../lib/assets-reference.mjs";
import { machine, median, root, startProcess } from "../lib/harness.mjs";
import { openInspector } from "../lib/inspector.mjs";
import { cpuMs, workerdPid } from "../lib/proc-stat.mjs";
import { warmUntilSteady } from "../lib/warm-up.mjs";
import { edgeHeaders } from "./edge-request.mjs";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "4000" },
    rounds: { type: "string", default: "3" },
    addresses: { type: "string", default: "4096" },
    hot: { type: "string", default: "100" },
    before: { type: "string" },
    out: { type: "string", default: path.join(root, "bench/api/CPU.md") },
    "profile-s": { type: "string", default: "8" },
    /** Skip the profile (no inspector attached to "after", so before and after run alike). */
    "no-profile": { type: "boolean", default: false },
  },
});
const REQUESTS = Number(args.requests);
const ROUNDS = Number(args.rounds);
const SPREADS = [
  { id: "many", addresses: Number(args.addresses) },
  { id: "hot", addresses: Number(args.hot) },
];
const CONNECTIONS = 10;
/** Routes per reference target; the services get popular and the list. */
const ROUTES = {
  hello: ["/"],
  // A path the service's `[assets]` rules send to the Worker first, as they send the API.
  "hello-assets": ["/api/v1/hello"],
  d1: ["/"],
  "hello-log": ["/log", "/log-metric"],
  "hello-rpc": ["/rpc"],
};
const procs = [];

/** Starts one target under Miniflare (a checkout's own miniflare-server.mjs), returns its URL and workerd pid. */
async function startTarget(label, { checkout = root, config, vars = [], inspectorPort } = {}) {
  const persist = path.join(os.tmpdir(), `bench-cpu-${process.pid}-${label}`);
  const proc = startProcess(
    [
      path.join(checkout, "bench/ws/miniflare-server.mjs"),
      "--port",
      String(await freePort()),
      "--persist",
      persist,
      "--config",
      config,
      ...vars.flatMap((v) => ["--var", v]),
      ...(inspectorPort ? ["--inspector-port", String(inspectorPort)] : []),
    ],
    { cwd: checkout },
  );
  procs.push(proc);
  const deadline = Date.now() + 180_000;
  while (!/READY (\S+)/.test(proc.output())) {
    if (proc.child.exitCode !== null) throw new Error(`${label} exited:\n${proc.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`${label} did not start:\n${proc.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const url = /READY (\S+)/.exec(proc.output())[1];
  const pid = workerdPid(proc.child.pid);
  if (!pid) throw new Error(`${label}: no workerd process in group ${proc.child.pid}`);
  return { label, url, pid, proc };
}

/**
 * Limiter decisions so far, from the target's request log: every limited request logs
 * `"rate_limit":{...}`, and one answered from a leased token carries `"by":"lease"` (no
 * Durable Object call). Counted from the log, not guessed: the "calls per request" column.
 */
function limiterDecisions(target) {
  const output = target.proc.output();
  const limited = output.match(/"rate_limit":\{/g)?.length ?? 0;
  const leased = output.match(/"by":"lease"/g)?.length ?? 0;
  return { limited, calls: limited - leased };
}

function drive(url, { amount, duration, addresses }) {
  const { pathname } = new URL(url);
  return autocannon({
    url,
    connections: CONNECTIONS,
    ...(amount ? { amount } : { duration }),
    requests: [
      {
        method: "GET",
        path: pathname,
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, ...edgeHeaders(addresses) },
        }),
      },
    ],
  });
}

/** workerd CPU ms per request over `REQUESTS` requests (after a warm-up of a quarter of that). */
async function cpuPerRequest(target, route, addresses) {
  const url = `${target.url}${route}`;
  await drive(url, { amount: Math.ceil(REQUESTS / 4), addresses });
  const before = cpuMs(target.pid);
  const decisionsBefore = limiterDecisions(target);
  const r = await drive(url, { amount: REQUESTS, addresses });
  const used = cpuMs(target.pid) - before;
  // Let the last log lines arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const decisions = limiterDecisions(target);
  const limited = decisions.limited - decisionsBefore.limited;
  return {
    ms: used / r.requests.total,
    non2xx: r.non2xx + r.errors,
    rps: r.requests.average,
    // A sampled log ("shipped") has too few lines to count calls from.
    callsPerRequest:
      limited && target.label !== "shipped"
        ? (decisions.calls - decisionsBefore.calls) / r.requests.total
        : null,
  };
}

/** A V8 CPU profile of the isolate while `url` is loaded; self time per function, top `n`. */
async function profile(inspectorPort, url, addresses, n = 18) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => !/-internal|__/.test(t.title ?? "")) ?? targets[0];
  const { send, close } = await openInspector(target.webSocketDebuggerUrl);
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const loaded = await drive(url, { duration: Number(args["profile-s"]), addresses });
  const { result } = await send("Profiler.stop");
  close();
  const { nodes, samples, timeDeltas } = result.profile;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  let total = 0;
  samples.forEach((id, i) => {
    const node = byId.get(id);
    const f = node.callFrame;
    const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName || "(anonymous)"} ${where}`.trim();
    const dt = timeDeltas[i] ?? 0;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    total += dt;
  });
  const busy = total - (selfUs.get("(idle)") ?? 0);
  const top = [...selfUs.entries()]
    .filter(([k]) => k !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, n);
  return {
    busyMs: busy / 1000,
    requests: loaded.requests.total,
    top: top.map(([k, us]) => ({ fn: k, share: us / busy })),
  };
}

const routesOf = (target) => ROUTES[target.label] ?? ["/api/v1/characters/popular", "/api/v1/characters"];

async function main() {
  const limits = ["RATE_API_PER_S=1000000", "RATE_API_BURST=1000000"];
  // "before" and "after" log every request, so that their limiter calls can be counted from the
  // log; "shipped" keeps the default sampling (1 routine line in 100), the CPU production pays.
  const serviceVars = [...limits, "LOG_SAMPLE_RATE=1"];
  const inspectorPort = await freePort();
  const rpcInspectorPort = await freePort();
  const profiling = !args["no-profile"];
  const targets = [];
  targets.push(await startTarget("hello", { config: "bench/reference/hello/wrangler.toml" }));
  // hello-world behind the service's own `[assets]` config: the Worker the service is, before its own work.
  const helloAssets = writeReferenceConfig(
    path.join(os.tmpdir(), `bench-cpu-${process.pid}-config`),
    "hello-assets.toml",
    {
      name: "bench-hello-assets",
      mainPath: path.join(root, "bench/reference/hello/worker.ts"),
      withAssets: true,
    },
  );
  targets.push(await startTarget("hello-assets", { config: helloAssets }));
  targets.push(await startTarget("d1", { config: "bench/reference/d1-select/wrangler.toml" }));
  targets.push(await startTarget("hello-log", { config: "bench/reference/hello-log/wrangler.toml" }));
  // Profiled too: where V8's profiler puts a Durable Object call's cost, next to what it costs.
  targets.push(
    await startTarget("hello-rpc", {
      config: "bench/reference/hello-rpc/wrangler.toml",
      ...(profiling ? { inspectorPort: rpcInspectorPort } : {}),
    }),
  );
  if (args.before) {
    targets.push(
      await startTarget("before", {
        checkout: path.resolve(args.before),
        config: "wrangler.toml",
        vars: serviceVars,
      }),
    );
  }
  targets.push(
    await startTarget("after", {
      config: "wrangler.toml",
      vars: serviceVars,
    }),
  );
  // The profile is of the code as it ships, log sampling included.
  targets.push(
    await startTarget("shipped", {
      config: "wrangler.toml",
      vars: limits,
      ...(profiling ? { inspectorPort } : {}),
    }),
  );
  const load = os.loadavg()[0];

  // Every route of every target warm before any row is taken (bench/lib/warm-up.mjs): the rows
  // ran one spread after the other, so without it the first spread measured the warm-up.
  const warmups = [];
  for (const t of targets) {
    for (const route of routesOf(t)) {
      const url = `${t.url}${route}`;
      const figures = await warmUntilSteady(async (windowS) => {
        const before = cpuMs(t.pid);
        const r = await drive(url, { duration: windowS, addresses: SPREADS[0].addresses });
        return (cpuMs(t.pid) - before) / r.requests.total;
      });
      warmups.push({ target: t.label, route, figures });
      console.log(`warm-up ${t.label} ${route}: ${figures.map((f) => f.toFixed(3)).join(" -> ")} CPU ms/req`);
    }
  }
  // Rounds with the targets in alternating order (forward, then reversed), as in run.mjs: one row
  // of one target moves by +-30 % with what else the machine did that second; the median of the
  // rounds, each round's figure shown, is the figure to read.
  const runs = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const spread of SPREADS) {
      for (const t of round % 2 === 1 ? targets : [...targets].reverse()) {
        for (const route of routesOf(t)) {
          const r = await cpuPerRequest(t, route, spread.addresses);
          runs.push({ round, spread: spread.id, target: t.label, route, ...r });
          console.log(
            `round ${round} ${spread.id} ${t.label} ${route}: ${r.ms.toFixed(3)} CPU ms/req (non-2xx ${r.non2xx})`,
          );
        }
      }
    }
  }
  const rows = SPREADS.flatMap((spread) =>
    targets.flatMap((t) =>
      routesOf(t).map((route) => {
        const mine = runs.filter((r) => r.spread === spread.id && r.target === t.label && r.route === route);
        const calls = mine.map((r) => r.callsPerRequest).filter((c) => c !== null);
        return {
          spread: spread.id,
          target: t.label,
          route,
          ms: median(mine.map((r) => r.ms)),
          perRound: mine.map((r) => r.ms),
          non2xx: mine.reduce((a, r) => a + r.non2xx, 0),
          callsPerRequest: calls.length ? median(calls) : null,
        };
      }),
    ),
  );
  const url = (label, route) => `${targets.find((t) => t.label === label).url}${route}`;
  const profiled = [
    { label: "shipped", route: "/api/v1/characters/popular", port: inspectorPort },
    { label: "shipped", route: "/api/v1/characters", port: inspectorPort },
    { label: "hello-rpc", route: "/rpc", port: rpcInspectorPort },
  ];
  const profiles = [];
  for (const { label, route, port } of profiling ? profiled : []) {
    profiles.push({ label, route, ...(await profile(port, url(label, route), SPREADS[0].addresses)) });
  }
  const rowsRead = (await fetch(targets.find((t) => t.label === "d1").url)).headers.get("X-Rows-Read");
  writeFileSync(args.out, render(rows, profiles, load, rowsRead, warmups));
  console.log(`wrote ${path.relative(root, args.out)}`);
}

function render(rows, profiles, load, rowsRead, warmups) {
  const ref = (spread, label) => rows.find((r) => r.spread === spread && r.target === label);
  const lines = rows.map((r) => {
    const bare = r.target.startsWith("hello-")
      ? ref(r.spread, "hello")
      : r.route === "/"
        ? null
        : r.route.endsWith("popular")
          ? ref(r.spread, "hello")
          : ref(r.spread, "d1");
    const calls = r.callsPerRequest === null ? "-" : r.callsPerRequest.toFixed(2);
    // The cached read next to the Worker it is before its own work: hello-world behind the same `[assets]`.
    const like =
      bare?.target === "hello" && !r.target.startsWith("hello") ? ref(r.spread, "hello-assets") : null;
    const vs = bare
      ? `${(r.ms / bare.ms).toFixed(2)}x ${bare.target}${like ? `, ${(r.ms / like.ms).toFixed(2)}x hello-assets` : ""}`
      : "-";
    const rounds = r.perRound.map((ms) => ms.toFixed(3)).join(" / ");
    return `| ${r.spread} | ${r.target} | \`${r.route}\` | ${r.ms.toFixed(3)} | ${rounds} | ${vs} | ${calls} | ${r.non2xx} |`;
  });
  const prof = profiles.map(
    (
      p,
    ) => `### \`${p.route}\` (${p.label}), ${p.busyMs.toFixed(0)} ms of isolate CPU sampled over ${p.requests} requests: ${(p.busyMs / p.requests).toFixed(3)} ms per request (the Worker and, locally, ${p.label === "hello-rpc" ? "the called object's" : "the limiter object's"} JavaScript)

| function (file:line of the bundle) | share of busy samples |
|---|---:|
${p.top.map((t) => `| \`${t.fn.replace(/\|/g, "\\|")}\` | ${(t.share * 100).toFixed(1)} % |`).join("\n")}
`,
  );
  return `# CPU per request in the worker process

Generated by \`node bench/api/cpu.mjs --requests ${REQUESTS} --rounds ${ROUNDS} --addresses ${SPREADS[0].addresses} --hot ${SPREADS[1].addresses}${args.before ? ` --before ${args.before}` : ""}${args["no-profile"] ? " --no-profile" : ""}\` on ${new Date().toISOString()}.
Machine: ${machine()}; load average (1 min) at the start: ${load.toFixed(1)}.

Each target is the bundle \`wrangler deploy\` would upload, run by Miniflare/workerd directly (no \`wrangler dev\`
proxy): the bare hello-world worker, the bare D1 worker, and the service (before / after, both logging every request
with \`LOG_SAMPLE_RATE=1\`; "shipped": the after code with the shipped log sampling, one routine line in 100). ${REQUESTS} requests
per row and round at ${CONNECTIONS} connections after a warm-up of ${Math.ceil(REQUESTS / 4)}, ${ROUNDS} rounds with the targets in alternating order
(forward, then reversed; the figure is the median of the rounds, each round's shown), every request from a random one of
${SPREADS.map((s) => `${s.addresses} ("${s.id}")`).join(" or ")} addresses. CPU is the workerd process's own
utime + stime from /proc over the row, divided by the requests: it includes workerd's HTTP handling and,
locally, the rate limiter's Durable Object and D1 (which run in the same process); on the edge the Worker is
billed only for its own isolate's CPU, so these figures are an upper bound of the billed CPU.

| spread | target | route | workerd CPU ms / request (median) | rounds | vs bare (medians) | limiter calls / request | non-2xx |
|---|---|---|---:|---:|---:|---:|---:|
${lines.join("\n")}

"Limiter calls / request" counts the Durable Object calls the rate limiter made, from the service's own request
log (every limited request logs its decision; one answered from a token its isolate was leased logs \`"by":"lease"\`);
"-" for "shipped", whose log keeps too few lines to count from.

\`hello-assets\` is the bare worker behind the service's own \`[assets]\` config (read from its wrangler.toml), loaded on
a path its \`run_worker_first\` rules send to the Worker, as they send the API: under Miniflare every such request
crosses the assets router and its RPC proxy, two isolates of Miniflare's own in the same process, before the Worker.
Its difference from \`hello\` is what that costs here; the service's difference from it is the service's own work,
limiter calls included. On the edge the router is Cloudflare's and not billed (static assets are free; a request
that reaches the Worker is billed for the Worker's CPU).
\`hello-log\` is the bare worker plus exactly the request log's work (\`/log\`: the JSON line through \`console.log\`;
\`/log-metric\`: also its Analytics Engine data point), so its difference from \`hello\` is what logging costs here.
\`hello-rpc\` is the bare worker plus one Durable Object call per request shaped like the limiter's (one of 16 warm
objects by a hash of the address, the same arguments and result; the object only counts), so its difference from
\`hello\` is what one limiter call costs, one call per request by construction (its column says "-": it logs nothing).
The list's D1 query (the bare D1 worker runs the same SELECT) reads **${rowsRead}** rows per request (\`meta.rows_read\`).

Before any row, every route of every target was loaded (${SPREADS[0].addresses} addresses, ${CONNECTIONS} connections) in 4-s
windows until its CPU per request moved by at most 5 % from one window to the next (at least 8 s, at most 48 s;
bench/lib/warm-up.mjs), so the rows measure warm isolates, not V8 tiering up. CPU ms per request per window:

${warmups.map((w) => `- ${w.target} \`${w.route}\`: ${w.figures.map((f) => f.toFixed(3)).join(" -> ")}`).join("\n")}

## Where the time goes: V8 CPU profile of the service's isolate

Taken through workerd's inspector (\`Profiler\` domain, 100 µs sampling) while autocannon loads the route for
${args["profile-s"]} s at ${CONNECTIONS} connections (${SPREADS[0].addresses} addresses). Self time per function; the file is the
bundle wrangler built (line numbers of \`index.js\`).

${prof.join("\n")}
`;
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const p of procs) p.stop();
  });
