// Runs an embedded PostgreSQL until SIGTERM/SIGINT or stdin closes, printing one JSON line
// `{"url": "..."}` once it accepts connections. The test setup starts it as a child process
// whose stdin it holds: however vitest ends, even killed, the server stops with it. The
// server's own output goes to stderr only with PG_SERVER_VERBOSE=1.
import { startEmbeddedPostgres } from "./lib/postgres.mjs";

const verbose = process.env.PG_SERVER_VERBOSE === "1";
const pg = await startEmbeddedPostgres({ onLog: verbose ? (text) => process.stderr.write(text) : undefined });
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
