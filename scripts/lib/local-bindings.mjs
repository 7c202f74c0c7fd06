// The local bindings `wrangler dev` uses (D1 `DB`, R2 `BACKUPS`), opened from Node through
// wrangler's getPlatformProxy on the same persisted state (.wrangler/state by default).
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const wrangler = path.join(root, "node_modules/wrangler/bin/wrangler.js");

/**
 * Opens the local bindings. `persistTo` is wrangler's `--persist-to` directory (its data
 * lives in `<persistTo>/v3`). Only D1 and R2 are opened: a throw-away config naming just
 * those bindings (from wrangler.toml) keeps the Durable Objects, which live in the Worker,
 * out of it. Call `dispose()` when done.
 */
export async function openLocalBindings({ persistTo = path.join(root, ".wrangler/state") } = {}) {
  const { getPlatformProxy, unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: path.join(root, "wrangler.toml") });
  const dir = await mkdtemp(path.join(os.tmpdir(), "edge-art-bindings-"));
  const configPath = path.join(dir, "wrangler.json");
  await writeFile(
    configPath,
    JSON.stringify({
      name: config.name,
      compatibility_date: config.compatibility_date,
      d1_databases: config.d1_databases.map(({ binding, database_name, database_id }) => ({
        binding,
        database_name,
        database_id,
      })),
      r2_buckets: config.r2_buckets.map(({ binding, bucket_name }) => ({ binding, bucket_name })),
    }),
  );
  const proxy = await getPlatformProxy({
    configPath,
    persist: { path: path.join(persistTo, "v3") },
    remoteBindings: false,
  });
  return {
    env: proxy.env,
    async dispose() {
      await proxy.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `wrangler d1 migrations apply DB --local` on that state (idempotent). */
export function applyLocalD1Migrations({ persistTo = path.join(root, ".wrangler/state") } = {}) {
  const result = spawnSync(
    process.execPath,
    [wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" }, encoding: "utf8" },
  );
  if (result.status !== 0)
    throw new Error(`applying D1 migrations failed:\n${result.stderr || result.stdout}`);
}
