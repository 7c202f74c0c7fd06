// `wrangler dev` without the inspector, for `npm run dev`: runs wrangler's startWorker API
// with the options `startWorkerInput` (./dev-env.mjs) made of wrangler's own flags, given as
// one JSON argument. Why: with the inspector attached, every console.log of the Worker (one
// request line per request) also travels as a DevTools event through wrangler's inspector
// proxy to its Node process, which costs about 4 ms of CPU per line on this machine, more
// than the request itself (bench/loadtest/CEILING.md). The log lines still print, through
// workerd's structured output; `npm run dev -- --inspect` keeps the inspector (DevTools).
import { unstable_startWorker } from "wrangler";

const input = JSON.parse(process.argv[2] ?? "{}");
const worker = await unstable_startWorker(input);
await worker.ready;
console.log(`[dev] Ready on ${await worker.url} (inspector off; \`npm run dev -- --inspect\` for DevTools)`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await worker.dispose().catch(() => {});
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
