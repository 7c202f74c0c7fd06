// Does workerd's garbage collector make popular's tail? The service's bundle under Miniflare
// (bench/ws/miniflare-server.mjs, no wrangler dev proxy) with V8's --trace-gc, loaded with
// GET /api/v1/characters/popular at 100 connections from random client addresses; every
// response's start and end (wall clock) is kept, and every GC pause, placed on the wall clock
// by the earliest arrival of its trace line (V8 counts from isolate start). Prints the pauses
// per kind and how many of the slowest 1 % of requests overlap a pause, next to the same count
// with the pauses shifted by +-3/7 s (what chance overlap gives).
// `--heap-profile` also takes a sampling heap profile of every isolate the inspector lists, over
// the loaded run, counting objects that survived a scavenge (includeObjectsCollectedByMajorGC:
// what the Mark-Compacts collect) by allocating function.
// `--all-allocations` counts objects that died young too (includeObjectsCollectedByMinorGC):
// every byte allocated, by function; `--target core:user:service` profiles only that isolate.
// Without a profile, each isolate's allocation per request is also read from the trace
// (heap size before each collection minus after the previous one).
// `--rate N` offers N requests/s open loop instead (bench/lib/paced-load.mjs): which pauses make
// the tail at a load the service carries, not at saturation. The service is first warmed until
// its throughput holds (bench/lib/warm-up.mjs).
//   node bench/api/gc-tail.mjs [--duration 15] [--addresses 4096] [--connections 100 | --rate N] [--checkout DIR]
//     [--heap-profile [--all-allocations] [--target TITLE] [--top N]] [--path /api/v1/...] [--log FILE] [--perf FILE]
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { freePort } from "../../scripts/lib/postgres.mjs";
import { root, startProcess } from "../lib/harness.mjs";
import { openInspector } from "../lib/inspector.mjs";
import { pacedLoad } from "../lib/paced-load.mjs";
import { warmUntilSteady } from "../lib/warm-up.mjs";
import { edgeHeaders } from "./edge-request.mjs";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "15" },
    addresses: { type: "string", default: "4096" },
    connections: { type: "string", default: "100" },
    /** Open loop at this many requests/s instead of `connections` as fast as answers come. */
    rate: { type: "string" },
    checkout: { type: "string", default: root },
    flags: { type: "string", default: "--trace-gc" },
    "heap-profile": { type: "boolean", default: false },
    /** Count every allocation (includeObjectsCollectedByMinorGC too), not only what outlived a scavenge. */
    "all-allocations": { type: "boolean", default: false },
    /** Profile only the inspector targets whose title contains this (e.g. `core:user:service`). */
    target: { type: "string" },
    /** How many allocating functions to print per isolate. */
    top: { type: "string", default: "15" },
    path: { type: "string", default: "/api/v1/characters/popular" },
    /** Also write workerd's whole output here (e.g. for bench/ws/gc-nvp.mjs with `--flags=--trace-gc-nvp`). */
    log: { type: "string" },
    /** Record workerd's stacks over the loaded run with `perf record -g` (Debian's linux-perf) into this file, for bench/api/gc-perf.mjs. */
    perf: { type: "string" },
  },
});
const checkout = path.resolve(args.checkout);

const port = await freePort();
const inspectorPort = args["heap-profile"] ? await freePort() : null;
const proc = startProcess(
  [
    path.join(checkout, "bench/ws/miniflare-server.mjs"),
    "--port",
    String(port),
    "--persist",
    path.join(os.tmpdir(), `bench-gc-tail-${process.pid}`),
    "--var",
    "RATE_API_PER_S=1000000",
    "--var",
    "RATE_API_BURST=1000000",
    ...(inspectorPort ? ["--inspector-port", String(inspectorPort)] : []),
  ],
  { cwd: checkout, env: { MINIFLARE_WORKERD_V8_FLAGS: args.flags } },
);
// Each trace line's wall-clock arrival, to place V8's isolate clock on the wall clock.
const lines = [];
let partial = "";
proc.child.stdout.on("data", (chunk) => {
  const now = Date.now();
  const parts = (partial + chunk).split("\n");
  partial = parts.pop();
  for (const line of parts) lines.push({ now, line });
});
const stop = () => proc.stop();
process.on("exit", stop);
try {
  const deadline = Date.now() + 180_000;
  while (!/READY (\S+)/.test(proc.output())) {
    if (proc.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`service did not start:\n${proc.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const url = `${/READY (\S+)/.exec(proc.output())[1].replace(/\/$/, "")}${args.path}`;
  const headers = () => ({ ...edgeHeaders(Number(args.addresses)), "accept-encoding": "gzip, deflate, br" });
  /** The open-loop run, in the shape of autocannon's result. */
  const paced = async (duration) => {
    const requests = [];
    const r = await pacedLoad(url, {
      rate: Number(args.rate),
      durationS: duration,
      headers,
      onAnswer: (ms, status) => {
        const end = Date.now();
        requests.push({ start: end - ms, end, ms, status });
      },
    });
    return {
      result: {
        requests: { total: r.sent, average: Math.round(r.ok / r.seconds) },
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: 0,
      },
      requests,
    };
  };
  const run = (duration, record) =>
    new Promise((resolve, reject) => {
      const requests = [];
      const instance = autocannon(
        {
          url,
          connections: Number(args.connections),
          duration,
          requests: [
            {
              method: "GET",
              setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...headers() } }),
            },
          ],
        },
        (err, result) => (err ? reject(err) : resolve({ result, requests })),
      );
      if (record)
        instance.on("response", (_client, status, _bytes, ms) => {
          const end = Date.now();
          requests.push({ start: end - ms, end, ms, status });
        });
    });
  const warm = await warmUntilSteady(async (windowS) => (await run(windowS, false)).result.requests.average, {
    tolerance: 0.1,
  });
  console.log(`warm-up: ${warm.map((f) => Math.round(f)).join(" -> ")} req/s`);
  const firstLine = lines.length;
  const profiles = args["heap-profile"] ? await startHeapProfiles(inspectorPort) : [];
  const measuredFrom = lines.length;
  const perf = args.perf ? recordPerf(args.perf, proc.child.pid) : null;
  const { result, requests } = args.rate
    ? await paced(Number(args.duration))
    : await run(Number(args.duration), true);
  if (perf) await perf.stop();
  for (const p of profiles) await p.report(result.requests.total);
  await new Promise((r) => setTimeout(r, 500));
  const measuredTo = lines.length;

  const GC =
    /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Mark-Compact|Mark-Sweep|Minor Mark-Sweep)[^,]*,.*?([\d.]+) \/ [\d.]+ ms/;
  const all = lines
    .map(({ now, line }) => ({ now, m: GC.exec(line) }))
    .filter((x) => x.m)
    .map(({ now, m }) => ({ now, isolate: m[1], at: Number(m[2]), kind: m[3], ms: Number(m[4]) }));
  // Per isolate: wall = at + offset, offset = the smallest (arrival - at) seen (a line never arrives before its pause).
  const offset = new Map();
  for (const p of all) offset.set(p.isolate, Math.min(offset.get(p.isolate) ?? Infinity, p.now - p.at));
  const t0 = requests.length ? Math.min(...requests.map((r) => r.start)) : 0;
  const t1 = requests.length ? Math.max(...requests.map((r) => r.end)) : 0;
  const pauses = all
    .filter((_, i) => i >= 0)
    .map((p) => ({ ...p, start: p.at + offset.get(p.isolate) - p.ms, end: p.at + offset.get(p.isolate) }))
    .filter((p) => p.end >= t0 && p.start <= t1);
  void firstLine;
  // What each isolate allocated while loaded, from the trace alone: the heap grows only by
  // allocation, so the sum over consecutive collections of (size before this one - size after
  // the previous one) is every byte allocated between them (new and old space).
  const GC_SIZES =
    /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-Compact|Mark-Sweep|Minor Mark-Sweep)[^,]*? ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/;
  const perIsolate = new Map();
  for (const { line } of lines.slice(measuredFrom, measuredTo)) {
    const m = GC_SIZES.exec(line);
    if (!m) continue;
    const s = perIsolate.get(m[1]) ?? { allocatedMb: 0, last: null, scavenges: 0, majors: 0, heapMb: 0 };
    const before = Number(m[3]);
    if (s.last !== null) s.allocatedMb += Math.max(0, before - s.last);
    s.last = Number(m[4]);
    s.heapMb = Math.max(s.heapMb, before);
    if (m[2] === "Scavenge" || m[2] === "Minor Mark-Sweep") s.scavenges += 1;
    else s.majors += 1;
    perIsolate.set(m[1], s);
  }
  const total = result.requests.total;
  for (const [isolate, s] of perIsolate)
    console.log(
      `  ${isolate}: allocated ${((s.allocatedMb * 2 ** 20) / total).toFixed(0)} bytes per request (trace), ${((1000 * s.scavenges) / total).toFixed(2)} scavenges and ${((1000 * s.majors) / total).toFixed(3)} major GCs per 1 000 requests, heap up to ${s.heapMb} MB`,
    );

  const sorted = [...requests].sort((a, b) => a.ms - b.ms);
  const pct = (q) => sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))]?.ms;
  console.log(
    `${requests.length} requests, ${result.requests.average} req/s, non-2xx ${result.non2xx}, errors ${result.errors + result.timeouts}; latency p50 ${pct(50)} p90 ${pct(90)} p99 ${pct(99)} max ${sorted.at(-1)?.ms} ms`,
  );
  const byKind = new Map();
  for (const p of pauses) {
    const k = `${p.isolate} ${p.kind}`;
    if (!byKind.has(k)) byKind.set(k, []);
    byKind.get(k).push(p.ms);
  }
  const seconds = (t1 - t0) / 1000;
  for (const [k, ms] of [...byKind].sort()) {
    const total = ms.reduce((a, b) => a + b, 0);
    console.log(
      `  ${k.padEnd(30)} ${String(ms.length).padStart(5)} pauses (${(ms.length / seconds).toFixed(1)}/s), mean ${(total / ms.length).toFixed(1)} max ${Math.max(...ms).toFixed(1)} ms, ${((100 * total) / (t1 - t0)).toFixed(1)} % of the run`,
    );
  }
  const slow = sorted.slice(Math.floor(sorted.length * 0.99));
  const overlapping = (shift, minMs) =>
    slow.filter((r) =>
      pauses.some((p) => p.ms >= minMs && p.start + shift < r.end && p.end + shift > r.start),
    ).length;
  for (const minMs of [0, 5, 20]) {
    console.log(
      `slowest 1 % (${slow.length}, >= ${slow[0]?.ms} ms) overlapping a pause >= ${minMs} ms: ${overlapping(0, minMs)}; pauses shifted -7/-3/+3/+7 s: ${[-7000, -3000, 3000, 7000].map((s) => overlapping(s, minMs)).join("/")}`,
    );
  }
  // The raw lines of the major collections (heap before -> after, reason) and each isolate's last scavenge.
  for (const { line } of lines)
    if (/Mark-Compact|Mark-Sweep \(/.test(line) && !/Minor/.test(line)) console.log(`  ${line.trim()}`);
  const lastScavenge = new Map();
  for (const { line } of lines) {
    const m = /^\[\d+:(0x[0-9a-f]+)\].*Scavenge/.exec(line);
    if (m) lastScavenge.set(m[1], line.trim());
  }
  for (const line of lastScavenge.values()) console.log(`  last: ${line}`);
  const majors = pauses.filter((p) => p.kind !== "Scavenge" && p.kind !== "Minor Mark-Sweep");
  for (const p of majors) {
    const during = requests.filter((r) => r.start < p.end && r.end > p.start);
    const meanMs = during.reduce((a, r) => a + r.ms, 0) / (during.length || 1);
    console.log(
      `  ${p.kind} at +${((p.start - t0) / 1000).toFixed(2)} s: ${p.ms} ms, ${during.length} requests in flight across it, their mean latency ${meanMs.toFixed(0)} ms`,
    );
  }
  // Latency of requests per second of the run, p99 per second, to see whether the tail is spread or bunched.
  const perSecond = new Map();
  for (const r of requests) {
    const s = Math.floor((r.end - t0) / 1000);
    if (!perSecond.has(s)) perSecond.set(s, []);
    perSecond.get(s).push(r.ms);
  }
  console.log(
    `per-second p99 ms: ${[...perSecond]
      .sort((a, b) => a[0] - b[0])
      .map(([, ms]) => ms.sort((a, b) => a - b)[Math.floor(ms.length * 0.99)])
      .join(" ")}`,
  );
  console.log(
    `load average: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
} finally {
  if (args.log) writeFileSync(args.log, `${lines.map(({ line }) => line).join("\n")}\n`);
  stop();
}

/**
 * `perf record -g` of the workerd process under `parentPid` (Miniflare's server starts it) at
 * 2 kHz of CPU clock; workerd keeps its symbols and frame pointers, so its C++ stacks resolve.
 */
function recordPerf(file, parentPid) {
  const workerd = descendants(parentPid).find((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd"),
  );
  if (!workerd) throw new Error("no workerd process under the server");
  const child = spawn(
    "perf",
    ["record", "-e", "cpu-clock", "-F", "2000", "-g", "-p", String(workerd), "-o", file],
    {
      stdio: "ignore",
    },
  );
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGINT");
      }),
  };
}

/** Every process below `pid`, nearest first. */
function descendants(pid) {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number),
  );
  return [...children, ...children.flatMap(descendants)];
}

/** Starts a sampling heap profile (objects that outlived a scavenge) in every listed isolate. */
async function startHeapProfiles(port) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()).filter(
    (t) => !args.target || t.title.includes(args.target),
  );
  const sessions = [];
  for (const target of targets) {
    const { send, close } = await openInspector(target.webSocketDebuggerUrl);
    await send("HeapProfiler.enable");
    await send("HeapProfiler.startSampling", {
      samplingInterval: 16384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: args["all-allocations"],
    });
    sessions.push({
      async report(requests) {
        const { result } = await send("HeapProfiler.stopSampling");
        close();
        const self = new Map();
        let total = 0;
        const walk = (node) => {
          const f = node.callFrame;
          const key =
            `${f.functionName || "(anonymous)"} ${f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : ""}`.trim();
          self.set(key, (self.get(key) ?? 0) + node.selfSize);
          total += node.selfSize;
          for (const child of node.children ?? []) walk(child);
        };
        walk(result.profile.head);
        console.log(
          `heap profile ${target.title}: ${(total / 2 ** 20).toFixed(1)} MB ${args["all-allocations"] ? "allocated" : "outlived a scavenge"}, ${(total / requests) | 0} bytes per request`,
        );
        for (const [key, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top)))
          console.log(
            `    ${(bytes / 2 ** 20).toFixed(2).padStart(7)} MB ${String((bytes / requests) | 0).padStart(6)} B/req  ${key}`,
          );
      },
    });
  }
  return sessions;
}
