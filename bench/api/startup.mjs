// What the service's bundle costs before any request: its size as uploaded, how long workerd
// takes to start it and answer the first request, and how much of the isolate's heap it keeps
// (after a full GC, idle). Next to a bare hello-world worker started the same way, and to the
// service built minified (`wrangler deploy --minify`), rounds alternated. Miniflare/workerd
// directly (no `wrangler dev`), in-memory storage.
// Why the heap: every major GC marks what the isolate keeps, and V8 holds a script's source as
// one string, two bytes per character when the source has any non-ASCII character.
//   node bench/api/startup.mjs [--rounds 5] [--out bench/api/STARTUP.md]
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs, parseEnv } from "node:util";
import { gzipSync } from "node:zlib";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { freePort } from "../../scripts/lib/postgres.mjs";
import { buildBundle, bundleWorker } from "../lib/bundle.mjs";
import { machine, median, root } from "../lib/harness.mjs";
import { openInspector } from "../lib/inspector.mjs";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    out: { type: "string", default: path.join(root, "bench/api/STARTUP.md") },
  },
});
const rounds = Number(args.rounds);
if (!(rounds >= 1)) throw new Error("--rounds must be a positive number");

/** The dev-only secrets `npm run dev` starts with, so the service's health check can pass. */
const devVars = parseEnv(readFileSync(path.join(root, ".dev.vars.example"), "utf8"));

const work = path.join(os.tmpdir(), `bench-startup-${process.pid}`);
const targets = [
  { label: "hello", config: "bench/reference/hello/wrangler.toml", path: "/", build: [] },
  {
    label: "service (as shipped)",
    config: "wrangler.toml",
    path: "/api/v1/health",
    build: [],
    vars: devVars,
  },
  {
    label: "service, minified",
    config: "wrangler.toml",
    path: "/api/v1/health",
    build: ["--minify"],
    vars: devVars,
  },
].map((target, i) => {
  const config = path.join(root, target.config);
  const bundlePath = buildBundle(config, path.join(work, String(i)), target.build);
  const source = readFileSync(bundlePath);
  return {
    ...target,
    config,
    bundlePath,
    bytes: source.length,
    gzipBytes: gzipSync(source).length,
    // V8 keeps a source with any non-ASCII character as a two-byte string.
    twoByte: source.some((byte) => byte > 0x7f),
    samples: { readyMs: [], firstMs: [], heapMb: [] },
  };
});

/** Starts `target` in a fresh workerd, answers one request, reads its isolate's heap after a full GC. */
async function measure(target) {
  const inspectorPort = await freePort();
  const { worker } = bundleWorker(target.config, target.bundlePath, target.vars);
  const started = performance.now();
  const mf = new Miniflare(
    convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, inspectorPort, workers: [worker] }),
  );
  try {
    const url = await mf.ready;
    const ready = performance.now();
    const res = await mf.dispatchFetch(new URL(target.path, url));
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${target.label}: ${target.path} answered ${res.status}`);
    const answered = performance.now();
    const list = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
    const isolate = list.find((t) => t.title === `workerd: worker core:user:${worker.name}`);
    if (!isolate) throw new Error(`${target.label}: no inspector target core:user:${worker.name}`);
    const { send, close } = await openInspector(isolate.webSocketDebuggerUrl);
    // workerd never answers HeapProfiler.collectGarbage; a heap snapshot collects everything first.
    await send("HeapProfiler.enable");
    await send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const { result } = await send("Runtime.getHeapUsage");
    close();
    target.samples.readyMs.push(ready - started);
    target.samples.firstMs.push(answered - ready);
    target.samples.heapMb.push(result.usedSize / 2 ** 20);
  } finally {
    await mf.dispose();
  }
}

try {
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so no target always starts on a machine the previous one warmed.
    const order = round % 2 ? [...targets].reverse() : targets;
    for (const target of order) await measure(target);
    console.log(`round ${round + 1}/${rounds} done`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const kb = (bytes) => (bytes / 1024).toFixed(bytes < 10240 ? 1 : 0);
const each = (values, digits) => values.map((v) => v.toFixed(digits)).join(" / ");
const rows = targets.map(
  (t) =>
    `| ${t.label} | ${kb(t.bytes)} | ${kb(t.gzipBytes)} | ${t.twoByte ? "two-byte" : "one-byte"} | ` +
    `${median(t.samples.readyMs).toFixed(0)} (${each(t.samples.readyMs, 0)}) | ` +
    `${median(t.samples.firstMs).toFixed(1)} (${each(t.samples.firstMs, 1)}) | ` +
    `${median(t.samples.heapMb).toFixed(2)} (${each(t.samples.heapMb, 2)}) |`,
);
const report = `# Startup: bundle size, start, first answer, isolate heap

${new Date().toISOString()}, ${machine()}. \`node bench/api/startup.mjs --rounds ${rounds}\`, Miniflare/workerd
directly, in-memory storage, a fresh workerd per start, targets alternated. Medians, then every round.

- **ready**: \`new Miniflare(...)\` until \`mf.ready\`: workerd's process start, the script compiled and its
  top level evaluated; for the service also the workers Miniflare runs for its bindings (D1, R2, Durable
  Objects, Queues, assets), which hello-world has none of. So read the service's two rows against each other.
- **first answer**: one request (\`/\` for hello, \`/api/v1/health\` for the service) after ready.
- **heap**: the Worker isolate's V8 heap in use after a forced full GC, before any load.
- **source**: how V8 holds the script's source: one byte per character when it is all ASCII, else two.

| target | bundle KB | gzip KB | source | ready ms | first answer ms | heap MB |
|---|---:|---:|---|---:|---:|---:|
${rows.join("\n")}
`;
writeFileSync(args.out, report);
console.log(report);
