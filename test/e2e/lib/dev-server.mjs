import { spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

/**
 * Two free local ports, for the Worker and the RunPod emulator: other people on the machine may
 * run `npm run dev` on the defaults (8787/8788) at the same time.
 * @returns {Promise<{port: number, emulatorPort: number}>}
 */
export async function freePorts() {
  const servers = [];
  try {
    const ports = [];
    for (let i = 0; i < 2; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
      ports.push(server.address().port);
    }
    return { port: ports[0], emulatorPort: ports[1] };
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/**
 * Starts `npm run dev` (wrangler dev plus the RunPod emulator) on the ports given, in its own
 * process group, so stopping it takes wrangler, workerd and the emulator down together. Calling it
 * again with the same options after `stop()` restarts the same service (same local state).
 * @param {{root: string, baseUrl: string, emulatorPort: number, logFile: string, timeoutMs?: number}} options
 * @returns {Promise<{stop: () => Promise<void>, log: () => string}>}
 */
export async function startDevServer({ root, baseUrl, emulatorPort, logFile, timeoutMs = 180_000 }) {
  if (await isHealthy(baseUrl)) {
    throw new Error(
      `${baseUrl} already answers; stop that server first, or set E2E_BASE_URL=${baseUrl} to test it as is`,
    );
  }
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, "a");
  const { port } = new URL(baseUrl);
  // Image URLs are built from PUBLIC_BASE_URL, so it must name this server, not the default port.
  const child = spawn("npm", ["run", "dev", "--", "--", "--var", `PUBLIC_BASE_URL:${baseUrl}`], {
    cwd: root,
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, PORT: port, EMULATOR_PORT: String(emulatorPort), FORCE_COLOR: "0", CI: "true" },
  });
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });
  const log = () => readFileSync(logFile, "utf8");

  // Signals go to the whole group even when npm itself is gone: wrangler and workerd may remain.
  const stop = async () => {
    signalGroup(child.pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) await sleep(100);
    if (!exited) signalGroup(child.pid, "SIGKILL");
    // workerd children may outlive npm; the group signal reaches them too.
    signalGroup(child.pid, "SIGKILL");
  };

  const deadline = Date.now() + timeoutMs;
  let brokenSince = 0;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`npm run dev exited early (${JSON.stringify(exited)}):\n${tail(log())}`);
    if (await isHealthy(baseUrl)) return { stop, log };
    // wrangler keeps watching after a failed build; give a fix in progress 30 s, not the full timeout.
    const text = log();
    const broken = text.lastIndexOf("Build failed") > text.lastIndexOf("Ready on");
    brokenSince = broken ? brokenSince || Date.now() : 0;
    if (brokenSince && Date.now() - brokenSince > 30_000) {
      await stop();
      throw new Error(`the Worker does not build (wrangler: "Build failed"):\n${tail(text)}`);
    }
    await sleep(500);
  }
  await stop();
  throw new Error(`${baseUrl}/api/v1/health was not 200 within ${timeoutMs / 1000} s:\n${tail(log())}`);
}

async function isHealthy(baseUrl) {
  try {
    const response = await fetch(`${baseUrl}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function tail(text, lines = 40) {
  return text.split("\n").slice(-lines).join("\n");
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
