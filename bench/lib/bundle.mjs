// The Worker exactly as `wrangler deploy` would upload it, and the Miniflare options that serve
// it with the bindings its wrangler.toml declares: shared by bench/ws/miniflare-server.mjs (the
// worker process the benchmarks load) and bench/api/startup.mjs (what starting it costs).
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const root = path.resolve(import.meta.dirname, "../..");

/**
 * Runs `wrangler deploy --dry-run` for `config` into `dist` and returns the bundle's path.
 * `extraArgs` go to wrangler as they are (e.g. `--minify=false`).
 */
export function buildBundle(config, dist, extraArgs = []) {
  execFileSync(
    process.execPath,
    [
      path.join(root, "node_modules/wrangler/bin/wrangler.js"),
      "deploy",
      "--dry-run",
      "--outdir",
      dist,
      "-c",
      config,
      "--env=",
      ...extraArgs,
    ],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CI: "1" } },
  );
  // wrangler names the bundle after the entry point (src/index.ts -> index.js).
  const bundle = readdirSync(dist).find((file) => file.endsWith(".js"));
  if (!bundle) throw new Error(`wrangler wrote no bundle into ${dist}`);
  return path.join(dist, bundle);
}

/**
 * One Miniflare worker (Miniflare-4-shaped, for `convertV4MiniflareOptions`) serving `bundlePath`
 * with the bindings `config` declares, plus `vars`. Also returns the D1 bindings it declares.
 */
export function bundleWorker(config, bundlePath, vars = {}) {
  const { workerOptions: fromWrangler } = unstable_getMiniflareWorkerOptions(config);
  // The bundle is one ES module: wrangler's module rules (for unbundled sources) do not apply.
  const { modulesRules: _rules, ...workerOptions } = Object.fromEntries(
    Object.entries(fromWrangler).filter(([, value]) => value !== undefined),
  );
  return {
    worker: {
      ...workerOptions,
      name: workerOptions.name ?? "service",
      modules: true,
      modulesRoot: path.dirname(bundlePath),
      scriptPath: bundlePath,
      bindings: { ...workerOptions.bindings, ...vars },
    },
    d1Databases: Object.keys(workerOptions.d1Databases ?? {}),
  };
}
