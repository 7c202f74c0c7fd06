import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { root } from "./harness.mjs";

/**
 * The service's own `[assets]` section, read from its wrangler.toml, with the directory made
 * absolute so a reference Worker configured elsewhere serves the same files. A reference with
 * it is served the way the service is: under Miniflare (`wrangler dev` and the worker process
 * alike) every request then crosses the assets router and its RPC proxy, two isolates a Worker
 * without `[assets]` never sees.
 */
export function serviceAssetsSection() {
  const serviceToml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
  const assets = /^\[assets\]\n(?:(?!\[).*\n)*/m.exec(serviceToml)?.[0];
  if (!assets) throw new Error("no [assets] in wrangler.toml");
  return assets.replace(/directory = "[^"]*"/, `directory = "${path.join(root, "public")}"`);
}

/**
 * Writes `<dir>/<file>`: a reference Worker's config, `main` at `mainPath`, with the service's
 * `[assets]` section when `withAssets`. Returns the config's path.
 */
export function writeReferenceConfig(dir, file, { name, mainPath, withAssets }) {
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, file);
  const toml = `name = "${name}"\nmain = "${mainPath}"\ncompatibility_date = "2026-10-01"\n`;
  writeFileSync(config, withAssets ? `${toml}${serviceAssetsSection()}` : toml);
  return config;
}
