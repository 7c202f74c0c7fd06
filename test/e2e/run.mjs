// End-to-end tests of the web client against the real service: starts `npm run dev` (wrangler dev
// + RunPod emulator), drives Debian's chromium with playwright-core, writes screenshots of the main
// screens to docs/screenshots/, and ends with one line: "N passed, N failed".
// E2E_BASE_URL=http://127.0.0.1:8787 tests an already running service instead of starting one.
import path from "node:path";
import { DESKTOP, launchBrowser, openPage } from "./lib/browser.mjs";
import { startDevServer } from "./lib/dev-server.mjs";
import { createHarness } from "./lib/harness.mjs";
import { browseScenarios } from "./scenarios/browse.mjs";
import { chatScenarios } from "./scenarios/chat.mjs";
import { generateScenarios } from "./scenarios/generate.mjs";
import { historyScenarios } from "./scenarios/history.mjs";
import { importScenarios } from "./scenarios/import.mjs";
import { phoneScenarios } from "./scenarios/phone.mjs";
import { rateLimitScenarios } from "./scenarios/rate-limit.mjs";
import { sessionScenarios } from "./scenarios/session.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const baseUrl = process.env.E2E_BASE_URL ?? "http://127.0.0.1:8787";
const emulatorUrl = process.env.E2E_EMULATOR_URL ?? "http://127.0.0.1:8788";
const ctx = { root, baseUrl, shotsDir: path.join(root, "docs/screenshots") };

const t = createHarness();
sessionScenarios(t, ctx);
browseScenarios(t, ctx);
chatScenarios(t, ctx);
generateScenarios(t, ctx);
historyScenarios(t, ctx);
importScenarios(t, ctx);
phoneScenarios(t, ctx);
// Last: it empties the strict rate-limit bucket on purpose.
rateLimitScenarios(t, ctx);

let server = null;
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
    console.log(`starting npm run dev (log: test-results/e2e-dev.log) ...`);
    server = await startDevServer({ root, baseUrl, logFile: path.join(root, "test-results/e2e-dev.log") });
    console.log(`service is up at ${baseUrl}`);
  }
  // Slower tokens make the streamed reply visible to the eye and to the partial-render check.
  await fetch(`${emulatorUrl}/_emulator/config`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tokenDelayMs: 45, firstTokenMs: 300, gpuTimeMs: 1500 }),
  }).catch(() => console.log("(emulator config endpoint not reachable; using its defaults)"));

  browser = await launchBrowser();
  ctx.browser = browser;
  ctx.desktop = await openPage(browser, DESKTOP, { baseUrl });
  summary = await t.run();
  // Failed requests (the 401/404/429s the scenarios provoke, the socket while offline) are
  // expected; anything else is news.
  const problems = [...ctx.desktop.problems, ...(ctx.phoneProblems ?? [])].filter(
    (problem) =>
      !problem.includes("Failed to load resource") && !problem.includes("ERR_INTERNET_DISCONNECTED"),
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
