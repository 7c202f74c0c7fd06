// `npm run bench`: the benchmarks that finish in minutes, one after another, each writing
// its RESULTS.md (see bench/RESULTS.md for the index). The long ones have their own
// scripts: `npm run bench:soak` (1000 generation jobs), `npm run bench:ws` (5000 sockets),
// `npm run loadtest` (mixed users).
import { spawnSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
let failed = false;
// `npm run bench -- --before <checkout>` adds another checkout of the service (e.g. main at
// e36d2db) to the API and CPU benchmarks' runs; the rate-limiter and startup benchmarks take no
// options here.
const options = process.argv.slice(2);
for (const [script, args] of [
  ["bench/api/run.mjs", options],
  ["bench/api/cpu.mjs", options],
  ["bench/ratelimit/run.mjs", []],
  ["bench/api/startup.mjs", []],
]) {
  console.log(`\n=== ${script} ===`);
  const r = spawnSync(process.execPath, [path.join(root, script), ...args], {
    stdio: "inherit",
    cwd: root,
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
