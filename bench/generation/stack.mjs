// Starts what `npm run dev` starts (the RunPod emulator, `wrangler dev` with local D1, Queues,
// R2 and Durable Objects) plus the bare hello-world Worker, on free ports and a throwaway
// state directory, so a soak never touches a developer's running server or local data.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const wrangler = path.join(root, "node_modules/wrangler/bin/wrangler.js");

/** A port the OS says is free right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url, what, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not come up at ${url}`);
}

function start(name, args, cwd = root) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, CI: "true", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = [];
  /** Response statuses per route of `wrangler dev`'s request log, e.g. {"POST /api/v1/webhooks/runpod 429": 3}. */
  const statuses = {};
  /** Wall time of each batch the local queue broker handed to the consumer, in ms. */
  const batches = [];
  const keep = (chunk) => {
    const text = chunk.toString();
    lines.push(text);
    if (lines.length > 2000) lines.shift();
    for (const [, method, route, status] of text.matchAll(
      /\b(GET|POST) (\/api\/v1\/[a-z]+(?:\/runpod)?)\S* (\d{3})/g,
    )) {
      const key = `${method} ${route} ${status}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    for (const [, size, ms] of text.matchAll(/QUEUE generation \d+\/(\d+) \((\d+)ms\)/g)) {
      batches.push({ size: Number(size), ms: Number(ms) });
    }
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.on("exit", (code, signal) => {
    if (code && code !== 0 && !child.stopping) {
      console.error(
        `[soak] ${name} exited with ${code ?? signal}; last output:\n${lines.join("").slice(-4000)}`,
      );
    }
  });
  child.logTail = (chars = 4000) => lines.join("").slice(-chars);
  child.statuses = statuses;
  child.batches = batches;
  return child;
}

/** What `wrangler dev` needs to build and run the service. */
const SNAPSHOT = [
  "src",
  "durable-objects",
  "migrations",
  "public",
  "wrangler.toml",
  ".dev.vars",
  "package.json",
  "tsconfig.json",
];

/**
 * A copy of the service's sources: `wrangler dev` rebuilds and restarts the Worker whenever
 * a watched file changes, and a soak must not measure restarts caused by edits elsewhere.
 */
function snapshot(dir) {
  for (const entry of SNAPSHOT) {
    if (existsSync(path.join(root, entry)))
      cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
  }
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/**
 * @param {{extraVars?: string[]}} options `NAME:VALUE` pairs passed to `wrangler dev --var`
 * @returns {Promise<{apiUrl: string, emulatorUrl: string, helloUrl: string, stop: () => Promise<void>}>}
 */
export async function startStack({ extraVars = [] } = {}) {
  if (!existsSync(path.join(root, ".dev.vars"))) {
    copyFileSync(path.join(root, ".dev.vars.example"), path.join(root, ".dev.vars"));
  }
  // In memory when the machine has a tmpfs: production D1 is not a local disk's fsync.
  const stateDir = mkdtempSync(path.join(existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "soak-state-"));
  const appDir = snapshot(mkdtempSync(path.join(os.tmpdir(), "soak-app-")));
  const [apiPort, emulatorPort, helloPort, inspectorA, inspectorB] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const helloUrl = `http://127.0.0.1:${helloPort}`;

  const migrate = spawnSync(
    process.execPath,
    [wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir],
    { cwd: appDir, env: { ...process.env, CI: "true" }, encoding: "utf8" },
  );
  if (migrate.status !== 0) throw new Error(`applying D1 migrations failed:\n${migrate.stderr}`);

  const children = [];
  children.push(start("emulator", ["emulator/runpod/server.mjs", "--port", String(emulatorPort)]));
  const vars = [
    `RUNPOD_API_BASE:${emulatorUrl}/v2`,
    `LLM_BASE_URL:${emulatorUrl}/openai/v1`,
    `PUBLIC_BASE_URL:${apiUrl}`,
    ...extraVars,
  ].flatMap((v) => ["--var", v]);
  const devFlags = ["--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
  children.push(
    start(
      "wrangler dev",
      [
        wrangler,
        "dev",
        "--port",
        String(apiPort),
        "--inspector-port",
        String(inspectorA),
        "--persist-to",
        stateDir,
      ].concat(devFlags, vars),
      appDir,
    ),
  );
  children.push(
    start("hello worker", [
      wrangler,
      "dev",
      "-c",
      "bench/generation/hello/wrangler.toml",
      "--port",
      String(helloPort),
      "--inspector-port",
      String(inspectorB),
      ...devFlags,
    ]),
  );

  const stop = async () => {
    for (const child of children.reverse()) {
      child.stopping = true;
      child.kill("SIGTERM");
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(appDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${emulatorUrl}/`, "emulator");
    await waitFor(`${apiUrl}/api/v1/health`, "wrangler dev");
    await waitFor(`${helloUrl}/`, "hello worker");
  } catch (error) {
    for (const child of children)
      console.error(`--- ${child.spawnargs.slice(1, 3).join(" ")}\n${child.logTail()}`);
    await stop();
    throw error;
  }
  const logs = () =>
    children.map((child) => `--- ${child.spawnargs.slice(1, 3).join(" ")}\n${child.logTail()}`).join("\n");
  const api = () => children.find((child) => child.spawnargs.includes(String(apiPort)));
  return {
    apiUrl,
    emulatorUrl,
    helloUrl,
    stop,
    logs,
    apiStatuses: () => api()?.statuses ?? {},
    queueBatches: () => api()?.batches ?? [],
  };
}
