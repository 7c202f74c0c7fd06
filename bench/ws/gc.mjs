#!/usr/bin/env node
// Per-isolate GC counts from a server log of a run with MINIFLARE_WORKERD_V8_FLAGS=--trace-gc
// (BENCH_WS_SERVER_LOG=<file>, or <trace dir>/miniflare.server.log): scavenges and
// Mark-Compacts, their summed and longest pauses and the heap each Mark-Compact left.
// Isolates with fewer than three collections (start-up helpers) are left out.
//   node bench/ws/gc.mjs <server.log>
import { readFileSync } from "node:fs";

const LINE =
  /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-Compact|Mark-Sweep)[^,]*?[\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB.*?, ([\d.]+) \/ [\d.]+ ms/;
const isolates = new Map();
for (const line of readFileSync(process.argv[2], "utf8").split("\n")) {
  const m = LINE.exec(line);
  if (!m) continue;
  const [, isolate, kind, after, pause] = m;
  if (!isolates.has(isolate)) isolates.set(isolate, { scavenges: [], majors: [], kept: [] });
  const gc = isolates.get(isolate);
  if (kind === "Scavenge") gc.scavenges.push(Number(pause));
  else {
    gc.majors.push(Number(pause));
    gc.kept.push(Number(after));
  }
}
const sum = (values) => values.reduce((a, b) => a + b, 0);
const total = { scavenges: 0, scavengeMs: 0, majors: 0, majorMs: 0 };
for (const [isolate, gc] of isolates) {
  if (gc.scavenges.length + gc.majors.length < 3) continue;
  console.log(
    `${isolate}: ${gc.scavenges.length} scavenges (${sum(gc.scavenges).toFixed(0)} ms), ` +
      `${gc.majors.length} Mark-Compacts (${sum(gc.majors).toFixed(0)} ms, longest ${Math.max(0, ...gc.majors).toFixed(0)} ms; ` +
      `heap after: ${gc.kept.join(" / ") || "-"} MB)`,
  );
  total.scavenges += gc.scavenges.length;
  total.scavengeMs += sum(gc.scavenges);
  total.majors += gc.majors.length;
  total.majorMs += sum(gc.majors);
}
console.log(
  `all: ${total.scavenges} scavenges (${total.scavengeMs.toFixed(0)} ms), ${total.majors} Mark-Compacts (${total.majorMs.toFixed(0)} ms)`,
);
