// Where the service's CPU goes under a load-test profile: the Worker bundle (what `wrangler
// deploy` uploads) run by Miniflare directly (bench/ws/miniflare-server.mjs) with workerd's V8
// inspector on, the RunPod emulator next to it (as `npm run dev` runs it), and
// `bench/loadtest/run.mjs` against that server. While the users run, a V8 CPU profile of the
// service's isolate (Profiler domain, 200 µs sampling; the Durable Objects and the queue
// consumer run in the same isolate) and the CPU each process used (from /proc).
// Self time is reported per function and per source module: the bundle is not minified and
// esbuild marks where each module starts (`// src/auth/jwt.ts`), so a sample's line maps back to it.
//   node bench/loadtest/profile.mjs [--users 100] [--duration 60] [--skip 15] [--seconds 30]
//        [--port 8797] [--out /tmp/profile] [--top 40] [--stress-flows chat,image]
// Writes OUT.cpuprofile (open in Chrome DevTools) and OUT.md; prints OUT.md.
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "../../emulator/runpod/server.mjs";
import { root } from "../lib/harness.mjs";
import { openInspector } from "../lib/inspector.mjs";

const { values: args } = parseArgs({
  options: {
    users: { type: "string", default: "100" },
    duration: { type: "string", default: "60" },
    skip: { type: "string", default: "15" },
    seconds: { type: "string", default: "30" },
    port: { type: "string", default: "8797" },
    out: { type: "string", default: path.join(os.tmpdir(), "loadtest-profile") },
    top: { type: "string", default: "40" },
    think: { type: "string", default: "1000" },
    /** Passed to the load test: the flows each round runs besides its HTTP requests. */
    "stress-flows": { type: "string", default: "chat,image" },
    /** Only summarise a saved profile (OUT.cpuprofile) against its bundle (OUT.bundle.js). */
    analyse: { type: "boolean", default: false },
  },
});
const port = Number(args.port);
const inspectorPort = port + 2;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.log(`[profile] ${msg}`);

function devVars() {
  const file = path.join(root, existsOr(".dev.vars", ".dev.vars.example"));
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#") && line.includes("="));
}
function existsOr(a, b) {
  try {
    readFileSync(path.join(root, a));
    return a;
  } catch {
    return b;
  }
}

function procCpu() {
  const out = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      out.set(entry, { comm, cmd, ticks: Number(f[11]) + Number(f[12]) });
    } catch {}
  }
  return out;
}

/** An inspector session that takes a whole CPU profile in one message. */
const inspect = (url) => openInspector(url, { maxPayload: 1 << 30 });

/** Module starts in the bundle: esbuild's `// path` comment lines. */
function moduleMap(bundle) {
  const lines = readFileSync(bundle, "utf8").split("\n");
  const starts = [];
  lines.forEach((line, i) => {
    const m = /^\/\/ ((?:src|durable-objects|node_modules)\/\S+|\.\.\/\S+)$/.exec(line);
    if (m) starts.push({ line: i, module: m[1].replace(/^(?:.*\/)?node_modules\/(\.pnpm\/)?/, "npm:") });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid].line <= line) {
        found = starts[mid].module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

const pkgOf = (module) => {
  if (!module.startsWith("npm:")) return module.replace(/\/[^/]*$/, "/");
  const parts = module.slice(4).split("/");
  return `npm:${parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]}`;
};

function summarise(profile, moduleOf, n) {
  const { nodes, samples, timeDeltas } = profile;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map();
  const modules = new Map();
  const packages = new Map();
  const inclusive = new Map();
  const owners = new Map();
  let total = 0;
  let idle = 0;
  samples.forEach((id, i) => {
    const dt = timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(id);
    const f = node.callFrame;
    if (f.functionName === "(idle)") {
      idle += dt;
      return;
    }
    const mod = f.url === "index.js" ? moduleOf(f.lineNumber) : f.url || f.functionName || "(native)";
    const key = `${f.functionName || "(anonymous)"} ${f.url ? `${mod}:${f.lineNumber + 1}` : ""}`.trim();
    // Which own-code module a sample was spent under (the innermost src/ or durable-objects/ frame).
    let owner = "(no own frame)";
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur).callFrame;
      if (cf.url !== "index.js") continue;
      const m = moduleOf(cf.lineNumber);
      if (!m.startsWith("npm:")) {
        owner = m;
        break;
      }
    }
    owners.set(owner, (owners.get(owner) ?? 0) + dt);
    self.set(key, (self.get(key) ?? 0) + dt);
    modules.set(mod, (modules.get(mod) ?? 0) + dt);
    packages.set(pkgOf(mod), (packages.get(pkgOf(mod)) ?? 0) + dt);
    // Inclusive time per own-code module (src/, durable-objects/): counted once per sample.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur).callFrame;
      if (cf.url !== "index.js") continue;
      const m = moduleOf(cf.lineNumber);
      if (m.startsWith("npm:")) continue;
      const k = `${cf.functionName || "(anonymous)"} ${m}:${cf.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  });
  const busy = total - idle;
  const table = (map, limit) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([k, us]) => `| ${k} | ${(us / 1000).toFixed(0)} | ${((100 * us) / busy).toFixed(1)} % |`)
      .join("\n");
  return {
    total,
    busy,
    idle,
    self: table(self, n),
    modules: table(modules, n),
    packages: table(packages, 25),
    inclusive: table(inclusive, n),
    owners: table(owners, n),
  };
}

function tables(s) {
  return `## By package / source directory (self time)

| where | ms | share of busy |
|---|---:|---:|
${s.packages}

## By innermost own module (self time of everything below the innermost src/ or durable-objects/ frame)

| module | ms | share |
|---|---:|---:|
${s.owners}

## Top functions (self time)

| function | ms | share |
|---|---:|---:|
${s.self}

## Own code, inclusive (a function's time with everything it calls)

| function | ms | share |
|---|---:|---:|
${s.inclusive}
`;
}

async function main() {
  if (args.analyse) {
    const profile = JSON.parse(readFileSync(`${args.out}.cpuprofile`, "utf8"));
    const s = summarise(profile, moduleMap(`${args.out}.bundle.js`), Number(args.top));
    console.log(
      `busy ${(s.busy / 1000).toFixed(0)} ms, idle ${(s.idle / 1000).toFixed(0)} ms\n\n${tables(s)}`,
    );
    return;
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), "loadtest-profile-"));
  const emulator = await startEmulator({ port: port + 1 });
  const base = `http://127.0.0.1:${port}`;
  const vars = [
    ...devVars(),
    `RUNPOD_API_BASE=${emulator.url}/v2`,
    `LLM_BASE_URL=${emulator.url}/openai/v1`,
    `PUBLIC_BASE_URL=${base}`,
  ];
  const server = spawn(
    process.execPath,
    [
      path.join(root, "bench/ws/miniflare-server.mjs"),
      "--port",
      String(port),
      "--persist",
      scratch,
      "--inspector-port",
      String(inspectorPort),
      ...vars.flatMap((v) => ["--var", v]),
    ],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let output = "";
  server.stdout.on("data", (d) => (output += d));
  server.stderr.on("data", (d) => (output += d));
  const deadline = Date.now() + 180_000;
  while (!/READY/.test(output)) {
    if (server.exitCode !== null || Date.now() > deadline)
      throw new Error(`server failed:\n${output.slice(-3000)}`);
    await sleep(250);
  }
  log(`server ${base}, inspector ${inspectorPort}`);
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  log(`isolates: ${targets.map((t) => t.title).join(", ")}`);
  const target = targets.find((t) => !/^core:|-internal|^__/.test(t.title ?? "")) ?? targets[0];
  const inspector = await inspect(target.webSocketDebuggerUrl);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 200 });

  const load = spawn(
    process.execPath,
    [
      path.join(root, "bench/loadtest/run.mjs"),
      "--port",
      String(port),
      "--profile",
      "stress",
      "--stress-users",
      args.users,
      "--stress-duration",
      args.duration,
      "--think",
      args.think,
      "--stress-flows",
      args["stress-flows"],
      "--no-ab",
    ],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  let loadOutput = "";
  load.stdout.on("data", (d) => (loadOutput += d));
  const loadDone = new Promise((resolve) => load.once("exit", resolve));
  // CPU of the server's processes (workerd and the Miniflare host) while the users run (after
  // the load test's ceiling probe),
  // per round and per API request: steadier than latency on a machine others share.
  const serverPids = () =>
    [...procCpu().entries()].filter(
      ([, v]) => v.comm.startsWith("workerd") || v.cmd.includes("miniflare-server"),
    );

  // The load test first measures the ceiling (5 s) and checks address pass-through; then users ramp.
  while (!/mixed scenario/.test(loadOutput) && load.exitCode === null) await sleep(200);
  const runStart = new Map(serverPids().map(([pid, v]) => [pid, v.ticks]));
  await sleep(Number(args.skip) * 1000);
  const cpuBefore = procCpu();
  const loadBefore = os.loadavg();
  await inspector.send("Profiler.start");
  const t0 = Date.now();
  await sleep(Number(args.seconds) * 1000);
  const { result } = await inspector.send("Profiler.stop");
  const wallS = (Date.now() - t0) / 1000;
  const cpuAfter = procCpu();
  const loadAfter = os.loadavg();
  inspector.close();
  writeFileSync(`${args.out}.cpuprofile`, JSON.stringify(result.profile));
  const procRows = [...cpuAfter.entries()]
    .map(([pid, v]) => ({ pid, ...v, pct: (v.ticks - (cpuBefore.get(pid)?.ticks ?? v.ticks)) / wallS }))
    .filter((r) => r.pct >= 1)
    .sort((a, b) => b.pct - a.pct)
    .map(
      (r) => `| ${r.pid} | ${r.comm} | ${r.cmd.slice(0, 90).replace(/\|/g, "/")} | ${r.pct.toFixed(0)} % |`,
    )
    .join("\n");
  await loadDone;
  // Counted until the users stopped (the run's own report comes after its grace time).
  const runTicks = serverPids().reduce((sum, [pid, v]) => sum + v.ticks - (runStart.get(pid) ?? v.ticks), 0);
  const row = loadOutput
    .split("\n")
    .find((l) => /^\| \d+ \| \d+ \|/.test(l))
    ?.split("|")
    .map((x) => x.trim());
  const rounds = Number(row?.[2] ?? 0);
  const apiRequests = Number(row?.[4] ?? 0);
  const serverCpuMs = runTicks * 10;
  const bundle = path.join(scratch, "dist", "index.js");
  copyFileSync(bundle, `${args.out}.bundle.js`);
  const s = summarise(result.profile, moduleMap(bundle), Number(args.top));
  const report = `# CPU profile under the stress profile, ${args.users} users (${new Date().toISOString()})

Command: \`node bench/loadtest/profile.mjs --users ${args.users} --duration ${args.duration} --skip ${args.skip} --seconds ${args.seconds} --stress-flows ${args["stress-flows"]}\`
Load average before/after the profile window: ${loadBefore.map((x) => x.toFixed(2)).join(" ")} / ${loadAfter.map((x) => x.toFixed(2)).join(" ")}.
Server CPU (workerd + Miniflare host) over the load run: ${(serverCpuMs / 1000).toFixed(1)} s for ${rounds} rounds and ${apiRequests} API requests: **${(serverCpuMs / Math.max(1, rounds)).toFixed(1)} ms per round**, ${(serverCpuMs / Math.max(1, apiRequests)).toFixed(1)} ms per API request.
Profile window ${wallS.toFixed(1)} s; isolate busy ${(s.busy / 1000).toFixed(0)} ms (${((s.busy / 1e6 / wallS) * 100).toFixed(0)} % of one core), idle ${(s.idle / 1000).toFixed(0)} ms.

## Processes (CPU % of one core over the window)

| pid | comm | command | CPU |
|---|---|---|---:|
${procRows}

${tables(s)}
## The load test's own report

${loadOutput
  .split("\n")
  .filter((l) => /^\| (users|---|\d+ \|)/.test(l))
  .join("\n")}
`;
  writeFileSync(`${args.out}.md`, report);
  writeFileSync(`${args.out}.server.log`, output);
  writeFileSync(`${args.out}.run.md`, loadOutput);
  console.log(report);
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {}
  await emulator.close();
  await sleep(1000);
  try {
    process.kill(-server.pid, "SIGKILL");
  } catch {}
  rmSync(scratch, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
