import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

/** Starts scripts/pg-server.mjs in a child process; resolves to its URL and a stop function. */
export async function startPostgresProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const script = path.resolve(import.meta.dirname, "../../scripts/pg-server.mjs");
  const child = spawn(process.execPath, [script], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once("exit", (code) =>
      reject(new Error(`embedded PostgreSQL exited with ${code} before starting`)),
    );
  });
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
