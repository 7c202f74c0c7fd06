#!/usr/bin/env node
import { realpathSync } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { createApp } from "./app.mjs";
import { ConfigError, optionsFromCli, usage } from "./config.mjs";

export { directive } from "./directives.mjs";

/**
 * Starts the RunPod emulator: the RunPod serverless queue API, an OpenAI-compatible chat route
 * and the `/_emulator` controls, on one HTTP server.
 * @example
 * const emulator = await startEmulator({ port: 0, gpuTimeMs: 50 });
 * await fetch(`${emulator.url}/v2/sdxl/run`, { method: "POST", headers: { authorization: "Bearer k" }, body: ... });
 * await emulator.close();
 * @param {{port?: number, host?: string} & Record<string, unknown>} [options] port 0 picks a free one;
 *   every other key is a config knob (see config.mjs)
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>}>}
 */
export async function startEmulator(options = {}) {
  const { port = 0, host = "127.0.0.1", ...knobs } = options;
  const app = createApp(knobs);
  const server = http.createServer(app.handle);
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing = null;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    close() {
      closing ??= new Promise((resolve) => {
        app.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function main(argv) {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage());
    return;
  }
  let emulator;
  try {
    emulator = await startEmulator(optionsFromCli(argv, process.env));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`runpod-emulator: ${error.message}\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  console.log(`runpod-emulator listening on ${emulator.url}`);
  const stop = () => emulator.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function invokedDirectly() {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`runpod-emulator: ${error.message}`);
    process.exit(1);
  });
}
