#!/usr/bin/env node
// Everything one workerd isolate allocates over a window of a running bench, by allocating
// function: V8's sampling heap profiler with objects collected by scavenges and by
// Mark-Compacts both kept (`includeObjectsCollectedByMinorGC`/`MajorGC`), so the profile is
// every allocation (sampled), not only what survived. Run beside `npm run bench:ws` started
// with BENCH_WS_INSPECTOR_PORT=<port>; the window starts when <log> (the bench's output)
// says the users are chatting, plus --after seconds.
//   node bench/ws/heap-profile.mjs --port 9241 --log <bench stdout file> [--after 75] [--for 40]
//     [--title core:user:service] [--turns-per-second 50] [--interval 4096] [--out profile.json]
// Prints MB and bytes per warm turn (turns = --turns-per-second x --for) by allocating
// function, then by its three nearest callers.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { openInspector } from "../lib/inspector.mjs";

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    log: { type: "string" },
    after: { type: "string", default: "75" },
    for: { type: "string", default: "40" },
    title: { type: "string", default: "core:user:service" },
    "turns-per-second": { type: "string", default: "50" },
    interval: { type: "string", default: "4096" },
    out: { type: "string" },
    top: { type: "string", default: "30" },
  },
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Wait for the chatting phase in the bench's output.
for (;;) {
  let text = "";
  try {
    text = readFileSync(args.log, "utf8");
  } catch {}
  if (/miniflare: \d+ users chatting/.test(text)) break;
  await sleep(500);
}
await sleep(Number(args.after) * 1000);

const targets = await (await fetch(`http://127.0.0.1:${args.port}/json/list`)).json();
const target = targets.find((t) => t.title === args.title || t.title.endsWith(` ${args.title}`));
if (!target) throw new Error(`no inspector target ${args.title}: ${targets.map((t) => t.title)}`);
const { send, close } = await openInspector(target.webSocketDebuggerUrl);
await send("HeapProfiler.enable");
await send("HeapProfiler.startSampling", {
  samplingInterval: Number(args.interval),
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
const started = new Date().toISOString().slice(11, 19);
await sleep(Number(args.for) * 1000);
const { result } = await send("HeapProfiler.stopSampling");
close();
if (args.out) writeFileSync(args.out, JSON.stringify(result.profile));

const turns = Number(args["turns-per-second"]) * Number(args.for);
const name = (f) =>
  `${f.functionName || "(anonymous)"}${f.url ? ` ${path.basename(f.url)}:${f.lineNumber + 1}` : ""}`;
const bySelf = new Map();
const byStack = new Map();
let total = 0;
const walk = (node, stack) => {
  const here = [...stack, name(node.callFrame)];
  if (node.selfSize > 0) {
    total += node.selfSize;
    const self = here.at(-1);
    bySelf.set(self, (bySelf.get(self) ?? 0) + node.selfSize);
    const key = here.slice(-4).reverse().join(" <- ");
    byStack.set(key, (byStack.get(key) ?? 0) + node.selfSize);
  }
  for (const child of node.children ?? []) walk(child, here);
};
walk(result.profile.head, []);
const top = Number(args.top);
const line = ([key, bytes]) =>
  `  ${(bytes / 2 ** 20).toFixed(2).padStart(7)} MB ${String(Math.round(bytes / turns)).padStart(7)} B/turn  ${key}`;
console.log(
  `${args.title}, ${started} + ${args.for} s: ${(total / 2 ** 20).toFixed(1)} MB allocated (sampled every ${args.interval} B), ${Math.round(total / turns)} B per warm turn (${turns} turns assumed)`,
);
console.log("by allocating function:");
for (const entry of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(entry));
console.log("by allocating function and its three callers:");
for (const entry of [...byStack].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(entry));
