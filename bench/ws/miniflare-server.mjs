#!/usr/bin/env node
// The service served by Miniflare directly: the Worker bundled by wrangler (exactly what
// `wrangler deploy` would upload), run by workerd with the bindings wrangler.toml declares,
// but without `wrangler dev`'s proxy in front. Clients connect to workerd's own socket.
// Prints `READY <url>` on stdout once D1 is migrated and the Worker answers.
//   node bench/ws/miniflare-server.mjs --port 8901 --persist /tmp/x [--config wrangler.toml] --var NAME=VALUE ...
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_splitSqlQuery } from "wrangler";
import { buildBundle, bundleWorker } from "../lib/bundle.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8901" },
    persist: { type: "string" },
    config: { type: "string", default: "wrangler.toml" },
    var: { type: "string", multiple: true, default: [] },
    "inspector-port": { type: "string" },
  },
});
if (!args.persist) throw new Error("--persist <dir> is required");

const config = path.resolve(root, args.config);

// A fresh database every start: the bench measures a clean service.
rmSync(path.join(args.persist, "state"), { recursive: true, force: true });
const bundlePath = buildBundle(config, path.join(args.persist, "dist"));
const vars = Object.fromEntries(
  args.var.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);
const { worker, d1Databases } = bundleWorker(config, bundlePath, vars);

// wrangler still hands out Miniflare-4-shaped options; Miniflare 5 converts them.
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: Number(args.port),
    resourcePersistencePath: path.join(args.persist, "state"),
    logRequests: false,
    ...(args["inspector-port"] ? { inspectorPort: Number(args["inspector-port"]) } : {}),
    workers: [worker],
  }),
);
const url = await mf.ready;

// The same migration files `wrangler d1 migrations apply` runs (the reference worker has no D1).
if (d1Databases.includes("DB")) {
  const db = await mf.getD1Database("DB");
  const dir = path.join(root, "migrations/d1");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const statements = unstable_splitSqlQuery(readFileSync(path.join(dir, file), "utf8"));
    await db.batch(statements.map((statement) => db.prepare(statement)));
  }
}

const health = await mf.dispatchFetch(new URL("/api/v1/health", url));
if (!health.ok) throw new Error(`health check failed: ${health.status} ${await health.text()}`);
console.log(`READY ${url.origin}`);

const stop = () => mf.dispose().finally(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
