// The local bindings `wrangler dev` uses (D1 `DB`, R2 `BACKUPS`), opened from Node through
// wrangler's getPlatformProxy on the same persisted state (.wrangler/state by default).
import { spawnSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const wrangler = path.join(root, "node_modules/wrangler/bin/wrangler.js");

/**
 * Opens the local bindings. `persistTo` is wrangler's `--persist-to` directory (its data
 * lives in `<persistTo>/v3`). Call `dispose()` when done.
 */
export async function openLocalBindings({ persistTo = path.join(root, ".wrangler/state") } = {}) {
  const { getPlatformProxy } = await import("wrangler");
  const proxy = await getPlatformProxy({
    configPath: path.join(root, "wrangler.toml"),
    persist: { path: path.join(persistTo, "v3") },
    remoteBindings: false,
    envFiles: [],
  });
  return { env: proxy.env, dispose: () => proxy.dispose() };
}

/** `wrangler d1 migrations apply DB --local` on that state (idempotent). */
export function applyLocalD1Migrations({ persistTo = path.join(root, ".wrangler/state") } = {}) {
  const result = spawnSync(
    process.execPath,
    [wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" }, encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`applying D1 migrations failed:\n${result.stderr || result.stdout}`);
}
