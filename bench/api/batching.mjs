#!/usr/bin/env node
// Durable Object requests per limited Worker request, as the edge would bill them: the service
// bundle under Miniflare/workerd (one isolate, as one edge isolate), loaded by autocannon at
// `--connections` from `--addresses` random client addresses on a limited route that touches
// no database (GET /api/v1/client-config, zone `api`); then every limiter shard of the location
// is asked for its counters (`stats()`: decisions and calls served). Writes nothing; prints
// one `BATCHING {json}` line per row (the Worker's own log lines pass through too: grep them out).
//   node bench/api/batching.mjs [--duration 10] [--connections 100,10,1] [--addresses 4096]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const root = path.resolve(import.meta.dirname, "../..");
const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "100,10,1" },
    addresses: { type: "string", default: "4096" },
    shards: { type: "string", default: "16" },
  },
});

const work = mkdtempSync(path.join(os.tmpdir(), "bench-batching-"));
const dist = path.join(work, "dist");
execFileSync(
  process.execPath,
  [
    path.join(root, "node_modules/wrangler/bin/wrangler.js"),
    "deploy",
    "--dry-run",
    "--outdir",
    dist,
    "--env=",
  ],
  { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CI: "1" } },
);
const bundle = readdirSync(dist).find((file) => file.endsWith(".js"));
const { workerOptions: fromWrangler } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
const { modulesRules: _rules, ...workerOptions } = Object.fromEntries(
  Object.entries(fromWrangler).filter(([, value]) => value !== undefined),
);

// The dev-only secrets `npm run dev` uses (.dev.vars.example): the config refuses to start without them.
const devVars = Object.fromEntries(
  readFileSync(path.join(root, ".dev.vars.example"), "utf8")
    .split("\n")
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
);

const addresses = Array.from(
  { length: Number(args.addresses) },
  (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
);
const rows = [];
for (const connections of args.connections.split(",").map(Number)) {
  // A fresh workerd per row: the shards' counters start at zero.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      resourcePersistencePath: path.join(work, `state-${connections}`),
      workers: [
        {
          ...workerOptions,
          name: "service",
          modules: true,
          modulesRoot: dist,
          scriptPath: path.join(dist, bundle),
          // Limits far above the load, so every request is decided and none refused.
          bindings: {
            ...workerOptions.bindings,
            ...devVars,
            RATE_API_PER_S: "1000000",
            RATE_API_BURST: "1000000",
          },
        },
      ],
    }),
  );
  const url = await mf.ready;
  const probe = await fetch(new URL("/api/v1/client-config", url), {
    headers: { "CF-Connecting-IP": "10.0.0.1" },
  });
  if (probe.status !== 200) throw new Error(`client-config answered ${probe.status}: ${await probe.text()}`);
  const result = await autocannon({
    url: new URL("/api/v1/client-config", url).toString(),
    connections,
    duration: Number(args.duration),
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: {
            ...request.headers,
            "CF-Connecting-IP": addresses[Math.floor(Math.random() * addresses.length)],
          },
        }),
      },
    ],
  });
  const namespace = await mf.getDurableObjectNamespace("RATE_LIMITER", "service");
  let decisions = 0;
  let calls = 0;
  // Miniflare gives requests a placeholder `cf` (colo "DFW"); without one the location is "any".
  for (const colo of ["any", "DFW"]) {
    for (let i = 0; i < Number(args.shards); i++) {
      const stats = await namespace.get(namespace.idFromName(`rl:${colo}:${i}`)).stats();
      decisions += stats.allowed.api + stats.rejected.api;
      calls += stats.calls ?? 0;
    }
  }
  const ok = result["2xx"];
  rows.push({
    connections,
    addresses: addresses.length,
    requests_2xx: ok,
    non_2xx: result.non2xx + result.errors,
    req_per_s: Math.round(ok / Number(args.duration)),
    decisions,
    do_calls: calls,
    do_calls_per_decision: decisions ? Number((calls / decisions).toFixed(3)) : null,
    load: os.loadavg()[0].toFixed(1),
  });
  console.log(`BATCHING ${JSON.stringify(rows.at(-1))}`);
  await mf.dispose();
}
rmSync(work, { recursive: true, force: true });
