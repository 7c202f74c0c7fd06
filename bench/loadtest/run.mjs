// `npm run loadtest`: the old report's load tests, against `npm run dev`.
//   (a) `ab -n 1000 -c 100 /api/v1/characters`, with autocannon: 1 000 requests over 100
//       connections, once with one client address per connection and once all from one address
//       (the per-IP limiter engaged, as nginx's limit_req would have been);
//   (b) a mixed scenario: N simulated users, each from its own address, for a set time: guest
//       sign-in, browse characters, open a chat and send messages over the WebSocket (waiting
//       for chat.done), generate images with the emulator (waiting for generation.updated),
//       read history; error rate, p50/p95/p99 per step, throughput. Per profile
//       (./profiles.mjs): `person` waits as a visitor does (1-5 s browsing, 10-30 s typing),
//       `stress` runs every step back to back with --think ms between rounds.
// A server already answering on --port is used as it is; otherwise `scripts/dev.mjs` is started
// there (own state directory, emulator on port + 1) and stopped afterwards.
//   node bench/loadtest/run.mjs [--profile person,stress] [--users 150,1000] [--stress-users 28,100]
//        [--find-max] [--duration 120] [--stress-duration 60] [--think 1000] [--port 8787]
//        [--stress-flows chat,image]
//        [--no-ab] [--no-snapshot] [--write] [--out bench/loadtest/RESULTS.md]
// The server runs from a frozen copy of the tree (wrangler dev restarts on every source edit).
import { spawn } from "node:child_process";
import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { applyLocalD1Migrations } from "../../scripts/lib/local-bindings.mjs";
import { machine, root } from "../lib/harness.mjs";
import { cpuByProcess, cpuSince, devServerLabel } from "../lib/proc-stat.mjs";
import { describeThink, PROFILES } from "./profiles.mjs";
import { runUser, STRESS_FLOWS } from "./scenario.mjs";
import { quantile, Steps } from "./stats.mjs";

const { values: args } = parseArgs({
  options: {
    profile: { type: "string", default: "person,stress" },
    users: { type: "string", default: "150,1000" },
    "stress-users": { type: "string", default: "28,100" },
    "find-max": { type: "boolean", default: false },
    duration: { type: "string", default: "120" },
    "stress-duration": { type: "string", default: "60" },
    port: { type: "string", default: "8787" },
    think: { type: "string", default: "1000" },
    /** The flows a stress round runs besides its HTTP requests: `chat`, `image`, both, or `none`. */
    "stress-flows": { type: "string", default: STRESS_FLOWS.join(",") },
    "no-ab": { type: "boolean", default: false },
    "no-snapshot": { type: "boolean", default: false },
    write: { type: "boolean", default: false },
    out: { type: "string", default: "bench/loadtest/RESULTS.md" },
  },
});
const port = Number(args.port);
const base = `http://127.0.0.1:${port}`;
const profiles = args.profile.split(",").filter((p) => p in PROFILES);
const durationOf = (profile) => Number(profile === "stress" ? args["stress-duration"] : args.duration);
const usersOf = (profile) =>
  (profile === "stress" ? args["stress-users"] : args.users)
    .split(",")
    .map(Number)
    .filter((n) => n > 0);
const thinkMs = Number(args.think);
const stressFlows = args["stress-flows"] === "none" ? [] : args["stress-flows"].split(",").filter(Boolean);
for (const flow of stressFlows) {
  if (!STRESS_FLOWS.includes(flow)) {
    console.error(`--stress-flows: unknown flow "${flow}" (known: ${STRESS_FLOWS.join(", ")}, or none)`);
    process.exit(2);
  }
}
/** The flows this run's stress rounds leave out, as the report names them. */
const leftOut = STRESS_FLOWS.filter((flow) => !stressFlows.includes(flow)).map((flow) =>
  flow === "chat" ? "chat turn" : "image",
);
/** A profile as the report names it: stress rounds without a flow say so wherever they are named. */
const profileTitle = (profile) =>
  profile === "stress" && leftOut.length > 0
    ? `\`stress\` without the ${leftOut.join(" and the ")}`
    : `\`${profile}\``;
/** How long iterations running at the end of a run may take to finish. */
const GRACE_MS = 30_000;
/** Targets of the old report: API p95 under 200 ms, errors under 1 %. */
const TARGET = { p95: 200, errorRate: 0.01 };

const log = (msg) => console.log(`[loadtest] ${msg}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (v) => (v === null || v === undefined ? "-" : v.toFixed(0));

async function healthy() {
  try {
    const res = await fetch(`${base}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** What `npm run dev` needs of the tree; node_modules is linked, not copied. */
const SNAPSHOT = [
  "src",
  "durable-objects",
  "migrations",
  "public",
  "emulator",
  "scripts",
  "seed",
  "wrangler.toml",
  "package.json",
  "tsconfig.json",
  "worker-configuration.d.ts",
  ".dev.vars.example",
];

/**
 * A frozen copy of the tree to serve from: `wrangler dev` rebuilds and restarts the Worker
 * whenever a source file changes, and in a tree others are editing that would drop sockets
 * and stall requests in the middle of a run.
 */
function snapshot(scratch) {
  const dir = path.join(scratch, "tree");
  for (const entry of SNAPSHOT) cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

/** The process group of the server this run started (null when it uses one already running). */
let serverGroup = null;

/** Server CPU ms so far by process (empty when this run did not start the server). */
const serverCpu = () => (serverGroup ? cpuByProcess(serverGroup, devServerLabel) : {});

/** Starts `node scripts/dev.mjs` on `port` with a state directory of its own; returns a stopper. */
async function startDev(extraVars = []) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "edge-art-loadtest-"));
  const tree = args["no-snapshot"] ? root : snapshot(scratch);
  const state = path.join(scratch, "state");
  applyLocalD1Migrations({ persistTo: state });
  const logFile = path.join(scratch, "dev.log");
  const out = openSync(logFile, "a");
  const vars = [`PUBLIC_BASE_URL:${base}`, ...extraVars].flatMap((v) => ["--var", v]);
  const child = spawn(
    process.execPath,
    [path.join(tree, "scripts/dev.mjs"), "--", "--persist-to", state, "--log-level", "warn", ...vars],
    {
      cwd: tree,
      detached: true,
      stdio: ["ignore", out, out],
      env: { ...process.env, CI: "1", PORT: String(port), EMULATOR_PORT: String(port + 1) },
    },
  );
  const deadline = Date.now() + 180_000;
  while (!(await healthy())) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited early; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`npm run dev did not answer within 180 s; see ${logFile}`);
    await sleep(500);
  }
  serverGroup = child.pid;
  return async () => {
    serverGroup = null;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    await sleep(2000);
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    closeSync(out);
    rmSync(scratch, { recursive: true, force: true });
  };
}

/**
 * Does wrangler dev pass a client's CF-Connecting-IP through to the Worker? Ten concurrent
 * guest sign-ins from address A drain A's `strict` bucket (burst 10, refill 5/s); then one from
 * B: with pass-through B has its own, full bucket; otherwise all share one and B finds it drained.
 */
async function clientAddressPassesThrough() {
  const remaining = async (ip) => {
    const res = await fetch(`${base}/api/v1/auth/guest`, {
      method: "POST",
      headers: { "CF-Connecting-IP": ip, "Content-Type": "application/json" },
      body: "{}",
    });
    await res.arrayBuffer();
    return Number(res.headers.get("RateLimit-Remaining") ?? Number.NaN);
  };
  const prefix = `10.250.${Math.floor(Math.random() * 250)}`;
  const drained = Math.min(
    ...(await Promise.all(Array.from({ length: 10 }, () => remaining(`${prefix}.1`)))),
  );
  const other = await remaining(`${prefix}.2`);
  return other - drained >= 4;
}

/** The server's ceiling on this machine: `GET /api/v1/health` (no database, no limiter), 10 connections, 5 s. */
async function baseline() {
  const result = await autocannon({ url: `${base}/api/v1/health`, connections: 10, duration: 5 });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/** The `ab -n 1000 -c 100` equivalent; `oneIp` sends every request from one address. */
async function abEquivalent(oneIp) {
  const times = [];
  const statuses = {};
  let connection = 0;
  const result = await autocannon({
    url: `${base}/api/v1/characters`,
    connections: 100,
    amount: 1000,
    setupClient(client) {
      connection += 1;
      client.setHeaders({
        "CF-Connecting-IP": oneIp ? "10.251.0.1" : `10.252.${connection >> 8}.${connection & 255}`,
      });
      client.on("response", (status, _bytes, responseTime) => {
        times.push(responseTime);
        statuses[status] = (statuses[status] ?? 0) + 1;
      });
    },
  });
  times.sort((x, y) => x - y);
  return {
    name: oneIp ? "100 connections, all from one client address" : "100 connections, one client address each",
    requests: result.requests.total,
    rps: result.requests.total / (result.duration || 1),
    p50: quantile(times, 0.5),
    p95: quantile(times, 0.95),
    p99: quantile(times, 0.99),
    errors: result.errors + result.timeouts,
    statuses,
  };
}

/**
 * N users of `profile` for its duration. stress users start over the first 10 s (or a quarter
 * of the run); person users over 30 s (or a quarter), each then landing within a first browse wait.
 */
async function mixed(profile, users, run) {
  const durationS = durationOf(profile);
  const steps = new Steps();
  const cpuBefore = process.cpuUsage();
  const serverBefore = serverCpu();
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const loads = [];
  const sampler = setInterval(() => loads.push(os.loadavg()[0]), 5000);
  const started = Date.now();
  const deadline = started + durationS * 1000;
  const rampMs = Math.min(profile === "stress" ? 10_000 : 30_000, (durationS * 1000) / 4);
  const stop = new AbortController();
  const progress = { iterations: 0 };
  const everyone = Promise.all(
    Array.from({ length: users }, async (_, i) => {
      await sleep((rampMs * i) / users);
      if (!stop.signal.aborted)
        await runUser(i, {
          profile,
          base,
          deadline,
          steps,
          thinkMs,
          run,
          signal: stop.signal,
          progress,
          flows: stressFlows,
        });
    }),
  );
  // Iterations in flight at the deadline get GRACE_MS to finish; what still runs then is an error.
  await Promise.race([everyone, sleep(deadline + GRACE_MS - Date.now())]);
  steps.close();
  stop.abort();
  await everyone;
  const elapsedS = (Date.now() - started) / 1000;
  clearInterval(sampler);
  loop.disable();
  const cpu = process.cpuUsage(cpuBefore);
  const summary = steps.summary();
  const apiRps = summary.api.count / elapsedS;
  return {
    profile,
    users,
    elapsedS,
    clientCpu: (cpu.user + cpu.system) / 1000 / (elapsedS * 1000),
    // CPU ms each server process (workerd, wrangler, dev.mjs with the emulator) used over the
    // whole run; null when this run did not start the server.
    serverByProcess: serverGroup ? cpuSince(serverBefore, serverCpu()) : null,
    turns: summary.rows.find((x) => x.name.startsWith("chat reply"))?.count ?? 0,
    iterations: progress.iterations,
    ...summary,
    apiRps,
    loadMax: loads.length ? Math.max(...loads) : os.loadavg()[0],
    clientLoopP99: loop.percentile(99) / 1e6,
    passes: summary.errorRate < TARGET.errorRate && (summary.api.p95 ?? Infinity) < TARGET.p95,
  };
}

function describeRun(r) {
  return `${r.profile}, ${r.users} users: ${r.iterations} ${r.profile === "stress" ? "rounds" : "chat visits"}, ${r.turns} chat turns, API ${r.api.count} req (${r.apiRps.toFixed(0)} req/s), errors ${(r.errorRate * 100).toFixed(2)} %, API p50/p95/p99 ${ms(r.api.p50)}/${ms(r.api.p95)}/${ms(r.api.p99)} ms, load max ${r.loadMax.toFixed(1)}, client loop p99 ${r.clientLoopP99.toFixed(0)} ms, client CPU ${(r.clientCpu * 100).toFixed(0)} %, server CPU (cores, ms per iteration) ${serverCpuCell(r)} -> ${r.passes ? "PASS" : "FAIL"}`;
}

/** The largest N that passes: double from the best pass, then bisect (at most 5 more runs). */
async function findMax(runs, runNext) {
  const passed = () => runs.filter((r) => r.passes).map((r) => r.users);
  const failed = () => runs.filter((r) => !r.passes).map((r) => r.users);
  for (let extra = 0; extra < 5; extra++) {
    const lo = Math.max(0, ...passed());
    const hi = Math.min(Infinity, ...failed().filter((n) => n > lo));
    let next;
    if (hi === Infinity) next = lo * 2;
    else if (lo === 0) next = hi > 20 ? Math.floor(hi / 2 / 10) * 10 : Math.max(1, Math.floor(hi / 2));
    else {
      const grain = hi - lo > 100 ? 25 : hi - lo > 20 ? 5 : 1;
      next = Math.round((lo + hi) / 2 / grain) * grain;
    }
    if (next <= lo || next >= hi || runs.some((r) => r.users === next)) break;
    runs.push(await runNext(next));
  }
  return Math.max(0, ...passed());
}

/** The Worker's own workerd process (src/, its Durable Objects, Miniflare's simulators). */
const WORKER_PROCESS = "workerd (the Worker)";

/** Cores used over the run, given CPU ms used over it. */
const coresOf = (r, used) => (used / (r.elapsedS * 1000)).toFixed(2);

/** The server's cores, its ms per round or visit, and the Worker process's ms of those. */
const serverCpuCell = (r) => {
  if (!r.serverByProcess) return "-";
  const total = Object.values(r.serverByProcess).reduce((a, b) => a + b, 0);
  const perIteration = (used) => (r.iterations ? ms(used / r.iterations) : "-");
  const worker = r.serverByProcess[WORKER_PROCESS];
  return `${coresOf(r, total)}, ${perIteration(total)}${worker === undefined ? "" : ` (the Worker ${perIteration(worker)})`}`;
};

const byProcess = (r) =>
  Object.entries(r.serverByProcess)
    .sort((a, b) => b[1] - a[1])
    .map(([name, used]) => `${name} ${coresOf(r, used)}`)
    .join(", ");

/** The summary table of one profile's runs, with its model and its largest passing N. */
function profileSection(profile, label, runs, maxUsers, ceiling) {
  const lines = [];
  const unit = profile === "stress" ? "round" : "visit";
  const durationS = durationOf(profile);
  const model = describeThink(profile);
  lines.push(
    `## (${label}) Mixed scenario, profile ${profileTitle(profile)}, ${durationS} s per run${profile === "stress" ? `, think time ${thinkMs} ms between rounds` : ""}`,
  );
  lines.push("");
  if (profile === "stress") {
    lines.push(
      "A round: `GET /characters`, `GET /characters/popular`, `GET /characters/:id`, `POST /chats`, chat.send over the WebSocket until chat.done (skipped when the user's last turn was under 3 s ago: the shipped limit is 20 turns a minute per user), `POST /generate` (256 x 256, 4 steps) until generation.updated `succeeded`, `GET /chats/:id/messages`, `GET /generations`; then the think time, then the next round. Users start over the first 10 s.",
    );
    if (leftOut.length > 0) {
      lines.push(
        "",
        `**These rounds leave out the ${leftOut.join(" and the ")}** (\`--stress-flows ${stressFlows.join(",") || "none"}\`): what the server's CPU per round loses against a full round is what that flow costs.`,
      );
    }
  } else {
    lines.push(
      `A visit: \`GET /characters\`, \`GET /characters/popular\`, \`GET /characters/:id\`, \`POST /chats\`, \`GET /chats/:id/messages\`, chat turns (chat.send over the WebSocket until chat.done), sometimes \`POST /generate\` (256 x 256, 4 steps) until generation.updated \`succeeded\` and \`GET /generations\`; then the next visit. Think times (uniform, seeded per user): ${model}. Users arrive over the first 30 s, each within a first browse wait.`,
    );
  }
  lines.push(
    "Each user signs in once (`POST /auth/guest`) from its own address and opens one socket. API = the single HTTP requests; error rate over every step.",
  );
  lines.push("");
  lines.push(
    `| users | ${profile === "stress" ? "rounds" : "chat visits"} | chat turns | API requests | API req/s | error rate | API p50 ms | API p95 ms | API p99 ms | chat.done p50/p95 ms | image p50/p95 ms | load avg (max) | client loop p99 ms | client CPU | server CPU: cores, ms per ${unit} (of it, the Worker's process) | target |`,
  );
  lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|");
  for (const r of runs) {
    const chat = r.rows.find((x) => x.name.startsWith("chat reply"));
    const image = r.rows.find((x) => x.name.startsWith("image ready"));
    lines.push(
      `| ${r.users} | ${r.iterations} | ${r.turns} | ${r.api.count} | ${r.apiRps.toFixed(0)} | ${(r.errorRate * 100).toFixed(2)} % | ${ms(r.api.p50)} | ${ms(r.api.p95)} | ${ms(r.api.p99)} | ${ms(chat?.p50)} / ${ms(chat?.p95)} | ${ms(image?.p50)} / ${ms(image?.p95)} | ${r.loadMax.toFixed(1)} | ${r.clientLoopP99.toFixed(0)} | ${(r.clientCpu * 100).toFixed(0)} % | ${serverCpuCell(r)} | ${r.passes ? "met" : "missed"} |`,
    );
  }
  lines.push("");
  lines.push(
    maxUsers > 0
      ? `Largest N that met both targets (errors < 1 %, API p95 < 200 ms) on this machine, profile ${profileTitle(profile)}: **${maxUsers}**.`
      : `No N met both targets on this machine, profile ${profileTitle(profile)}.`,
  );
  const measured = runs.filter((r) => r.serverByProcess);
  if (measured.length) {
    lines.push("");
    lines.push(
      `Server CPU by process, in cores over the whole run: ${measured.map((r) => `${r.users} users: ${byProcess(r)}`).join("; ")}.`,
    );
  }
  const peak = Math.max(...runs.map((r) => r.apiRps));
  lines.push("");
  lines.push(
    `API throughput peaked at ${peak.toFixed(0)} req/s (ceiling for the cheapest route: ${ceiling.rps.toFixed(0)} req/s). Client CPU is the load generator's own share of one core; with its event-loop p99 it shows whether the generator, not the server, was the limit. Server CPU is what every process of \`npm run dev\` used over the run (workerd with the Worker, its Durable Objects, D1, Queues and R2; wrangler; dev.mjs with the RunPod emulator), in cores and per completed ${unit}. The Worker's own workerd runs its JavaScript (the Worker, its Durable Objects and queue consumer, Miniflare's simulators) on one thread, so one core divided by its ms per ${unit} bounds how many this server completes a second, however idle the other core.`,
  );
  lines.push("");
  return lines;
}

function report({ ab, runs, maxUsers, passthrough, loadBefore, ceiling }) {
  const lines = [];
  lines.push("# Load test (`npm run loadtest`)");
  lines.push("");
  lines.push(
    `Generated by \`node bench/loadtest/run.mjs ${process.argv.slice(2).join(" ")}\` on ${new Date().toISOString()}.`,
  );
  lines.push(
    `Machine: ${machine()}; load average before the runs: ${loadBefore.map((n) => n.toFixed(1)).join(" ")}.`,
  );
  lines.push(
    `Server: \`npm run dev\` (wrangler dev: local D1, Queues, DOs, the RunPod emulator) on ${base}, rate limits as shipped (20/s burst 40, strict 5/s burst 10) per client address; the load generator runs on the same machine.`,
  );
  lines.push(
    `Ceiling of this server on this machine: \`GET /api/v1/health\` (no rate limiter; its database check is cached for 1 s) at 10 connections: ${ceiling.rps.toFixed(0)} req/s, p50 ${ceiling.p50} ms, p99 ${ceiling.p99} ms.`,
  );
  lines.push(
    `Reading these figures: \`wrangler dev\` runs every binding (D1, the Durable Objects, Queues) in one local workerd, next to the RunPod emulator and the load generator, on the same ${os.cpus().length} cores: the figures compare runs and catch regressions, they do not predict production capacity, where requests spread over isolates and locations and D1, Queues and Durable Objects run on their own machines.`,
  );
  lines.push(
    `Client address: wrangler dev ${passthrough ? "passes a client-supplied `CF-Connecting-IP` through to the Worker, so each simulated user (and each autocannon connection) has its own rate-limit bucket" : "overwrites `CF-Connecting-IP`; limits were raised with `--var`"}.`,
  );
  lines.push("");
  if (ab.length) {
    lines.push("## (a) `ab -n 1000 -c 100 /api/v1/characters`, with autocannon");
    lines.push("");
    lines.push("| run | requests | req/s | p50 ms | p95 ms | p99 ms | statuses | errors |");
    lines.push("|---|---:|---:|---:|---:|---:|---|---:|");
    for (const r of ab) {
      lines.push(
        `| ${r.name} | ${r.requests} | ${r.rps.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${Object.entries(
          r.statuses,
        )
          .map(([s, n]) => `${s}: ${n}`)
          .join(", ")} | ${r.errors} |`,
      );
    }
    lines.push("");
  }
  profiles.forEach((profile, k) => {
    const mine = runs.filter((r) => r.profile === profile).sort((x, y) => x.users - y.users);
    if (mine.length === 0) return;
    lines.push(...profileSection(profile, `b${k + 1}`, mine, maxUsers[profile], ceiling));
  });
  const investigation = path.join(root, "bench/loadtest/CEILING.md");
  if (existsSync(investigation)) {
    lines.push("");
    lines.push(readFileSync(investigation, "utf8").trim().replace(/^# /, "## "));
  }
  for (const r of [...runs].sort((x, y) => x.profile.localeCompare(y.profile) || x.users - y.users)) {
    lines.push("");
    lines.push(`### ${r.profile}, ${r.users} users, per step`);
    lines.push("");
    lines.push("| step | kind | count | errors | p50 ms | p95 ms | p99 ms | error reasons |");
    lines.push("|---|---|---:|---:|---:|---:|---:|---|");
    for (const s of r.rows) {
      const reasons = Object.entries(s.reasons)
        .map(([k, v]) => `${k}: ${v}`)
        .join("; ");
      lines.push(
        `| ${s.name} | ${s.kind} | ${s.count} | ${s.errors} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${reasons} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

async function main() {
  const loadBefore = os.loadavg();
  log(`load average ${loadBefore.map((n) => n.toFixed(2)).join(" ")} on ${os.cpus().length} cores`);
  let stop = null;
  if (await healthy()) log(`using the server already running at ${base}`);
  else {
    log(`starting npm run dev on port ${port} (emulator on ${port + 1})`);
    stop = await startDev();
  }
  try {
    let passthrough = await clientAddressPassesThrough();
    log(`client-supplied CF-Connecting-IP ${passthrough ? "reaches" : "does NOT reach"} the Worker`);
    if (!passthrough && stop) {
      log("restarting with raised rate limits (--var RATE_*)");
      await stop();
      stop = await startDev([
        "RATE_API_PER_S:1000000",
        "RATE_API_BURST:1000000",
        "RATE_STRICT_PER_S:1000000",
        "RATE_STRICT_BURST:1000000",
      ]);
      passthrough = false;
    }
    const ceiling = await baseline();
    log(
      `ceiling: GET /api/v1/health ${ceiling.rps.toFixed(0)} req/s, p50 ${ceiling.p50} ms, p99 ${ceiling.p99} ms`,
    );
    const ab = [];
    if (!args["no-ab"]) {
      for (const oneIp of [false, true]) {
        const r = await abEquivalent(oneIp);
        ab.push(r);
        log(
          `${r.name}: ${r.rps.toFixed(0)} req/s, p50 ${ms(r.p50)} ms, p95 ${ms(r.p95)} ms, statuses ${JSON.stringify(r.statuses)}`,
        );
      }
    }
    const runs = [];
    const maxUsers = {};
    let runNumber = 1;
    for (const profile of profiles) {
      const mine = [];
      const runNext = async (users) => {
        log(`mixed scenario, profile ${profile}: ${users} users for ${durationOf(profile)} s`);
        const r = await mixed(profile, users, runNumber++);
        log(describeRun(r));
        await sleep(5000);
        return r;
      };
      for (const users of usersOf(profile)) mine.push(await runNext(users));
      maxUsers[profile] = args["find-max"]
        ? await findMax(mine, runNext)
        : Math.max(0, ...mine.filter((r) => r.passes).map((r) => r.users));
      log(`profile ${profile}: largest N meeting the targets ${maxUsers[profile]}`);
      runs.push(...mine);
    }
    const text = report({ ab, runs, maxUsers, passthrough, loadBefore, ceiling });
    if (args.write) {
      writeFileSync(path.resolve(root, args.out), text);
      log(`wrote ${args.out}`);
    } else {
      console.log(text);
    }
  } finally {
    if (stop) {
      log("stopping npm run dev");
      await stop();
    }
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[loadtest] ${error.stack ?? error}`);
    process.exit(1);
  },
);
