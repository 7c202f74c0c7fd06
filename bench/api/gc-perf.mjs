#!/usr/bin/env node
// What workerd does inside its garbage collector's pauses, from a `perf record -g` of its process
// (`node bench/api/gc-tail.mjs --perf FILE` records one over the loaded run). V8's trace only
// says that most of a pause is outside its own phases (bench/ws/RESULTS.md, "Session 8",
// section 4); the C++ stacks say whose work that is: cppgc's sweeper finalizing the runtime's
// objects (a Response, its Headers and each header's strings, a body stream) that only a
// Mark-Compact frees, with tcmalloc taking the memory back.
//   node bench/api/gc-perf.mjs <perf.data> [--top 25] [--requests N]
// First the totals over the recording, Mark-Compacts and scavenges apart (a scavenge's epilogue
// destroys the runtime objects whose wrappers died young), per 1 000 requests with
// `--requests`: a pause can fall anywhere in a run, the work does not. Then each Mark-Compact
// (a run of the main thread's samples inside V8's collector, no gap over 30 ms): its length,
// the share of its samples in each frame below, and the frames most often on its stacks. Match
// a pause to its isolate by length and order with the `Mark-Compact` lines gc-tail.mjs prints.
import { spawn } from "node:child_process";
import readline from "node:readline";
import { parseArgs } from "node:util";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "25" },
    /** The sampling rate gc-tail.mjs records at: each sample stands for 1/hz s of CPU. */
    hz: { type: "string", default: "2000" },
    /** Requests answered over the recording (gc-tail.mjs prints it): totals per 1 000 of them. */
    requests: { type: "string" },
  },
});
if (!positionals[0]) throw new Error("usage: gc-perf.mjs <perf.data> [--top N] [--requests N] [--hz 2000]");

/** Frames whose share of a pause is printed for every pause (substring of the symbol). */
const WATCHED = [
  ["cppgc sweeper finishing (the runtime's objects finalized)", "Sweeper::SweeperImpl::Finish"],
  ["  Response destroyed", "workerd::api::Response::~Response"],
  ["  Headers destroyed", "workerd::api::Headers::~Headers"],
  ["  Request destroyed", "workerd::api::Request::~Request"],
  ["  a body stream destroyed", "JsReadableStream::Impl::~Impl"],
  ["  tcmalloc returning freed memory", "ThreadCache::DeallocateSlow"],
  ["V8 marking", "MarkCompactCollector::MarkLiveObjects"],
  ["cppgc weakness", "MarkerBase::ProcessWeakness"],
];
/** Samples of one pause are at most this far apart (s); two pauses are further. */
const GAP_S = 0.03;

/** Reads `perf script` output: one sample per blank-line-separated block, header then frames. */
async function* samples(file) {
  const perf = spawn("perf", ["script", "-i", file, "-F", "pid,tid,time,ip,sym"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  let sample = null;
  for await (const line of readline.createInterface({ input: perf.stdout })) {
    const head = /^\s*(\d+)\/(\d+)\s+([\d.]+):/.exec(line);
    if (head) {
      if (sample) yield sample;
      sample = { pid: head[1], tid: head[2], t: Number(head[3]), frames: [] };
    } else if (sample && line.trim()) {
      sample.frames.push(line.trim().replace(/^[0-9a-f]+\s+/, ""));
    }
  }
  if (sample) yield sample;
}

const inGc = (frames) => frames.some((f) => f.includes("v8::internal::Heap::CollectGarbage"));

// Pauses: runs of the main thread's samples inside V8's collector. A pause is a Mark-Compact
// when any of its samples is in one, else a scavenge (whose epilogue also destroys the
// runtime's objects whose wrappers died young: workerd::jsg::HeapTracer).
const pauses = [];
for await (const s of samples(positionals[0])) {
  // The thread that runs every isolate is the process's main thread (tid = pid).
  if (s.pid !== s.tid || !inGc(s.frames)) continue;
  const last = pauses.at(-1);
  if (last && s.t - last.end <= GAP_S) {
    last.end = s.t;
    last.samples.push(s.frames);
  } else {
    pauses.push({ start: s.t, end: s.t, samples: [s.frames] });
  }
}
for (const p of pauses)
  p.major = p.samples.some((frames) => frames.some((f) => f.includes("v8::internal::Heap::MarkCompact")));

const hz = Number(args.hz);
const per = args.requests ? 1000 / Number(args.requests) : 1;
const unit = args.requests ? "ms per 1 000 requests" : "ms";
for (const [kind, chosen] of [
  ["Mark-Compacts", pauses.filter((p) => p.major)],
  ["scavenges", pauses.filter((p) => !p.major)],
]) {
  const all = chosen.flatMap((p) => p.samples);
  console.log(
    `${kind}: ${chosen.length}, ${((all.length / hz) * 1000 * per).toFixed(1)} ${unit} of CPU in them, of which:`,
  );
  for (const [label, needle] of WATCHED) {
    const hits = all.filter((frames) => frames.some((f) => f.includes(needle))).length;
    console.log(`  ${label.padEnd(58)} ${((hits / hz) * 1000 * per).toFixed(1).padStart(7)} ${unit}`);
  }
}

const short = (frame) => frame.replace(/\(.*$/, "").replace(/<.*$/, "<>").slice(0, 120);
const top = Number(args.top);
// Each Mark-Compact on its own (scavenges are short and many: their totals are above).
for (const p of pauses.filter((x) => x.major)) {
  const n = p.samples.length;
  console.log(
    `\npause at ${p.start.toFixed(2)} s (perf clock): ${((p.end - p.start) * 1000).toFixed(0)} ms, ${n} samples`,
  );
  for (const [label, needle] of WATCHED) {
    const hits = p.samples.filter((frames) => frames.some((f) => f.includes(needle))).length;
    console.log(`  ${label.padEnd(58)} ${((100 * hits) / n).toFixed(1).padStart(5)} %`);
  }
  const inclusive = new Map();
  for (const frames of p.samples)
    for (const f of new Set(frames.map(short))) inclusive.set(f, (inclusive.get(f) ?? 0) + 1);
  const interesting = [...inclusive]
    .filter(([f]) =>
      /workerd::api|workerd::jsg::Wrappable|cppgc::internal::Sweeper|tcmalloc|MarkCompactCollector::/.test(f),
    )
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  console.log("  most often on the stack (runtime objects, sweeper, allocator, V8 collector):");
  for (const [f, c] of interesting) console.log(`    ${((100 * c) / n).toFixed(1).padStart(5)} %  ${f}`);
}
