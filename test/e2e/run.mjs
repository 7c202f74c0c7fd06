// End-to-end tests of the web client against the real service: starts `npm run dev` (wrangler dev
// + RunPod emulator), drives Debian's chromium with playwright-core, writes screenshots of the main
// screens to docs/screenshots/, and ends with one line: "N passed, N failed".
// The service gets two free ports of its own (others may run `npm run dev` on 8787 meanwhile).
// The page is served as http://localhost:<port> (PUBLIC_BASE_URL names it too): passkeys need a
// relying party that is a host name, and browsers refuse an IP address such as 127.0.0.1.
// E2E_BASE_URL=http://localhost:8787 tests an already running service instead of starting one
// (its PUBLIC_BASE_URL must be that same origin for the passkey scenarios).
import { rmSync } from "node:fs";
import path from "node:path";
import { DESKTOP, launchBrowser, openPage } from "./lib/browser.mjs";
import { freePorts, startDevServer } from "./lib/dev-server.mjs";
import { createHarness } from "./lib/harness.mjs";
import { accountScenarios } from "./scenarios/accounts.mjs";
import { browseScenarios } from "./scenarios/browse.mjs";
import { chatScenarios } from "./scenarios/chat.mjs";
import { chatFailureScenarios } from "./scenarios/chat-failures.mjs";
import { chatListScenarios } from "./scenarios/chat-list.mjs";
import { creditScenarios } from "./scenarios/credits.mjs";
import { depthScenarios } from "./scenarios/depth.mjs";
import { generateScenarios } from "./scenarios/generate.mjs";
import { historyScenarios } from "./scenarios/history.mjs";
import { importScenarios } from "./scenarios/import.mjs";
import { keyboardScenarios } from "./scenarios/keyboard.mjs";
import { newUserScenarios, restartScenarios } from "./scenarios/new-user.mjs";
import { phoneScenarios } from "./scenarios/phone.mjs";
import { rateLimitScenarios } from "./scenarios/rate-limit.mjs";
import { reconnectScenarios } from "./scenarios/reconnect.mjs";
import { sessionScenarios } from "./scenarios/session.mjs";
import { tagScenarios } from "./scenarios/tags.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const ports = process.env.E2E_BASE_URL ? null : await freePorts();
const baseUrl = process.env.E2E_BASE_URL ?? `http://localhost:${ports.port}`;
const emulatorUrl = process.env.E2E_EMULATOR_URL ?? `http://127.0.0.1:${ports?.emulatorPort ?? 8788}`;
const ctx = { root, baseUrl, shotsDir: path.join(root, "docs/screenshots") };

const t = createHarness();
sessionScenarios(t, ctx);
browseScenarios(t, ctx);
tagScenarios(t, ctx);
chatScenarios(t, ctx);
keyboardScenarios(t, ctx);
chatFailureScenarios(t, ctx);
generateScenarios(t, ctx);
historyScenarios(t, ctx);
chatListScenarios(t, ctx);
importScenarios(t, ctx);
// In browser contexts of their own: they delete their user at the end.
accountScenarios(t, ctx);
creditScenarios(t, ctx);
newUserScenarios(t, ctx);
depthScenarios(t, ctx);
// Restarts the service: after the scenarios that need uninterrupted streams.
reconnectScenarios(t, ctx);
restartScenarios(t, ctx);
phoneScenarios(t, ctx);
// Last: it empties the strict rate-limit bucket on purpose.
rateLimitScenarios(t, ctx);

let server = null;
function configureEmulator() {
  return fetch(`${emulatorUrl}/_emulator/config`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tokenDelayMs: 45, firstTokenMs: 300, gpuTimeMs: 1500 }),
  }).catch(() => console.log("(emulator config endpoint not reachable; using its defaults)"));
}
let browser = null;
let cleaningUp = null;
const cleanup = () => {
  cleaningUp ??= (async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  })();
  return cleaningUp;
};
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await cleanup();
    process.exit(130);
  });
}

let summary;
try {
  if (!process.env.E2E_BASE_URL) {
    const logFile = path.join(root, "test-results/e2e-dev.log");
    rmSync(logFile, { force: true });
    const options = { root, baseUrl, emulatorPort: ports.emulatorPort, logFile };
    console.log(`starting npm run dev on ${baseUrl} (log: test-results/e2e-dev.log) ...`);
    server = await startDevServer(options);
    console.log(`service is up at ${baseUrl}`);
    // For the reconnection scenarios: a real outage, then the same service back on the same port.
    ctx.server = {
      stop: async () => {
        await server.stop();
      },
      start: async () => {
        server = await startDevServer(options);
        await configureEmulator();
      },
    };
  }
  // Slower tokens make the streamed reply visible to the eye and to the partial-render check.
  await configureEmulator();

  browser = await launchBrowser();
  ctx.browser = browser;
  ctx.desktop = await openPage(browser, DESKTOP, { baseUrl });
  summary = await t.run();
  // Failed requests (the 401/404/429s the scenarios provoke, the socket while offline or while
  // the server is down) are expected; anything else is news.
  const problems = [...ctx.desktop.problems, ...(ctx.phoneProblems ?? [])].filter(
    (problem) =>
      !problem.includes("Failed to load resource") &&
      !problem.includes("ERR_INTERNET_DISCONNECTED") &&
      // The reconnection scenario stops the server on purpose.
      !problem.includes("ERR_CONNECTION_REFUSED"),
  );
  if (problems.length) {
    console.log(`\nbrowser errors (${problems.length}):`);
    for (const problem of [...new Set(problems)].slice(0, 20)) console.log(`  ${problem}`);
  }
} catch (error) {
  console.error(`e2e setup failed: ${error.stack ?? error}`);
  summary = { passed: 0, failed: t.count ?? 1 };
} finally {
  await cleanup();
}

console.log(`${summary.passed} passed, ${summary.failed} failed`);
process.exitCode = summary.failed > 0 ? 1 : 0;
