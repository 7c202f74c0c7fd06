import { spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * Starts `npm run dev` (wrangler dev on :8787 plus the RunPod emulator) in its own process group,
 * so stopping it takes wrangler, workerd and the emulator down together.
 * @param {{root: string, baseUrl: string, logFile: string, timeoutMs?: number}} options
 * @returns {Promise<{stop: () => Promise<void>, log: () => string}>}
 */
export async function startDevServer({ root, baseUrl, logFile, timeoutMs = 180_000 }) {
  if (await isHealthy(baseUrl)) {
    throw new Error(
      `${baseUrl} already answers; stop that server first, or set E2E_BASE_URL=${baseUrl} to test it as is`,
    );
  }
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, "w");
  const child = spawn("npm", ["run", "dev"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, FORCE_COLOR: "0", CI: "true" },
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
