// Loads the Worker's backup core (src/ops/backup) in Node: esbuild bundles the TypeScript
// entry once per run into node_modules/.cache (packages stay external, resolved from
// node_modules), so the scripts run the very export/restore code the Worker runs.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "../..");

/** The exports of src/ops/backup/index.ts. */
export async function loadBackupCore() {
  const outfile = path.join(root, "node_modules/.cache/edge-art-ops", `backup-core-${process.pid}.mjs`);
  await build({
    entryPoints: [path.join(root, "src/ops/backup/index.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "error",
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    const { rm } = await import("node:fs/promises");
    await rm(outfile, { force: true });
  }
}
