#!/usr/bin/env node
// What starts each Mark-Compact and what its pause is made of, per isolate, from a server log
// of a run with MINIFLARE_WORKERD_V8_FLAGS=--trace-gc-nvp (workerd's V8 prints one JSON object
// per collection: `[pid:0x<heap>:<isolate>] <ms> ms: GC: {...}`). Isolates are numbered in
// the order workerd made them, which is the order of its inspector's targets: with Miniflare
// 0 is the service (`core:user:service`), 4 `d1:db:entry`, 5 `d1:db` (bench/ws/RESULTS.md,
// Session 8). Isolates with fewer than three collections are left out.
//   node bench/ws/gc-nvp.mjs <server.log> [--from <ms>] [--to <ms>] [--each]
// Per isolate: scavenges, bytes they promoted, old-generation growth between them (what the
// mutator put straight into old space), traced handles promoted (wrappers of the runtime's
// objects), and the Mark-Compacts: reason, pause, V8's own phases (mark, clear, evacuate,
// sweep, finish...) and the rest of the pause ("outside": not in any V8 phase; it grows with
// the embedder and external memory the collection frees). `--each` lists every Mark-Compact;
// `--from`/`--to` keep collections in that window of each isolate's clock.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    from: { type: "string", default: "0" },
    to: { type: "string", default: `${Number.MAX_SAFE_INTEGER}` },
    each: { type: "boolean", default: false },
  },
});
if (!positionals[0]) throw new Error("usage: gc-nvp.mjs <server.log> [--from ms] [--to ms] [--each]");
const from = Number(args.from);
const to = Number(args.to);

// V8's top-level phases of a full GC (the sub-phases are inside these).
const PHASES = [
  "time_to_safepoint",
  "heap.prologue",
  "heap.embedder_tracing_epilogue",
  "heap.epilogue",
  "heap.external.prologue",
  "heap.external.epilogue",
  "heap.external_weak_global_handles",
  "complete.sweep_array_buffers",
  "complete.sweeping",
  "prologue",
  "mark",
  "clear",
  "evacuate",
  "sweep",
  "finish",
  "epilogue",
  "conservative_stack_scanning",
];
const LINE = /^\[\d+:0x[0-9a-f]+:(\d+)\]\s+(\d+) ms: GC: (\{.*\})\s*$/;
const isolates = new Map();
for (const line of readFileSync(positionals[0], "utf8").split("\n")) {
  const m = LINE.exec(line);
  if (!m) continue;
  let gc;
  try {
    gc = JSON.parse(m[3]);
  } catch {
    continue;
  }
  const at = Number(m[2]);
  if (at < from || at > to) continue;
  if (!isolates.has(m[1])) isolates.set(m[1], { scavenges: [], majors: [] });
  const entry = { at, gc };
  if (gc.gc === "s" || gc.gc === "mmc") isolates.get(m[1]).scavenges.push(entry);
  else isolates.get(m[1]).majors.push(entry);
}

const mb = (bytes) => (bytes / 1048576).toFixed(1);
const sum = (values) => values.reduce((a, b) => a + b, 0);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[sorted.length >> 1] : 0;
};
for (const [id, { scavenges, majors }] of [...isolates].sort((a, b) => Number(a[0]) - Number(b[0]))) {
  if (scavenges.length + majors.length < 3) continue;
  // Old generation grown between one scavenge's end and the next collection's start: allocated
  // straight into old space by the mutator (a Mark-Compact in between resets it).
  const all = [...scavenges, ...majors].sort((a, b) => a.at - b.at);
  let direct = 0;
  for (let i = 1; i < all.length; i++) {
    if (all[i - 1].gc.gc !== "s") continue;
    direct += Math.max(0, all[i].gc.start_old_gen_consumed_size - all[i - 1].gc.end_old_gen_consumed_size);
  }
  // Allocated outside the old generation between collections (new space, mostly): what the
  // heap held outside old space at a collection's start, less what it kept there at the last end.
  let young = 0;
  for (let i = 1; i < all.length; i++) {
    const [a, b] = [all[i - 1].gc, all[i].gc];
    young += Math.max(
      0,
      b.start_object_size - b.start_old_gen_consumed_size - (a.end_object_size - a.end_old_gen_consumed_size),
    );
  }
  const promoted = sum(scavenges.map((s) => s.gc.promoted ?? 0));
  const outside = majors.map(({ gc }) => gc.pause - sum(PHASES.map((p) => gc[p] ?? 0)));
  const reasons = {};
  for (const { gc } of majors) reasons[gc.reason] = (reasons[gc.reason] ?? 0) + 1;
  console.log(
    `isolate ${id}: ${scavenges.length} scavenges (${sum(scavenges.map((s) => s.gc.pause)).toFixed(0)} ms), ` +
      `promoted ${mb(promoted)} MB (median ${mb(median(scavenges.map((s) => s.gc.promoted ?? 0)))} per scavenge), ` +
      `old space grown between collections ${mb(direct)} MB, ` +
      `allocated outside old space ${mb(young)} MB (grown / allocated ${(direct / young).toFixed(3)}), ` +
      `traced handles promoted ${sum(scavenges.map((s) => s.gc.nodes_promoted ?? 0))}; ` +
      `${majors.length} Mark-Compacts (${sum(majors.map((m) => m.gc.pause)).toFixed(0)} ms, longest ` +
      `${Math.max(0, ...majors.map((m) => m.gc.pause)).toFixed(0)}; V8 phases ` +
      `${sum(majors.map((m, i) => m.gc.pause - outside[i])).toFixed(0)} ms, outside them ${sum(outside).toFixed(0)} ms); ` +
      `reasons ${JSON.stringify(reasons)}`,
  );
  if (!args.each) continue;
  majors.forEach(({ at, gc }, i) => {
    const embedderBefore = gc.start_global_consumed_size - gc.start_old_gen_consumed_size;
    const embedderAfter = gc.end_global_consumed_size - gc.end_old_gen_consumed_size;
    console.log(
      `  ${at} ms ${gc.reason}${gc.is_incremental ? " (incremental)" : ""}: pause ${gc.pause.toFixed(1)} = ` +
        `mark ${(gc.mark ?? 0).toFixed(1)} + clear ${(gc.clear ?? 0).toFixed(1)} + evacuate ${(gc.evacuate ?? 0).toFixed(1)} + ` +
        `sweep ${(gc.sweep ?? 0).toFixed(1)} + other phases ${(gc.pause - outside[i] - (gc.mark ?? 0) - (gc.clear ?? 0) - (gc.evacuate ?? 0) - (gc.sweep ?? 0)).toFixed(1)} + ` +
        `outside ${outside[i].toFixed(1)}; old ${mb(gc.start_old_gen_consumed_size)} -> ${mb(gc.end_old_gen_consumed_size)} MB, ` +
        `embedder+external ${mb(embedderBefore)} -> ${mb(embedderAfter)} MB`,
    );
  });
}
