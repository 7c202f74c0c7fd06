import { readFileSync } from "node:fs";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Two projects share one global setup (a real PostgreSQL and the RunPod emulator, both
 * started on free ports unless DATABASE_URL / RUNPOD_EMULATOR_URL name running ones):
 * - `workers`: everything that runs inside workerd with real D1, R2, Queues, DOs;
 * - `node`: tools that run on Node (emulator, card codec, restore script, `npm run dev`'s
 *   option and cron logic).
 */
// Many tests drive real servers (workerd, PostgreSQL, the emulator) over sockets; on a loaded
// 2-core machine 5 s is too tight. A hung test still fails: this is a bound, not a timing.
// Each project sets it: a project does not inherit the root's `test` options.
const TEST_TIMEOUT_MS = 30_000;

export default defineConfig({
  test: {
    // A passing test's logs (the Worker's JSON lines included: the pool routes workerd's
    // console through vitest) are dropped; a failing test prints its own.
    silent: "passed-only",
    testTimeout: TEST_TIMEOUT_MS,
    globalSetup: ["./test/setup/global-setup.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest(async ({ inject }) => {
            const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations/d1"));
            const databaseUrl = inject<string>("databaseUrl");
            const emulatorUrl = inject<string>("emulatorUrl");
            return {
              main: "./src/index.ts",
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
                  ADMIN_TOKEN: "test-admin-token",
                  RUNPOD_API_KEY: "test-runpod-key",
                  RUNPOD_WEBHOOK_SECRET: "test-webhook-secret",
                  LLM_API_KEY: "test-llm-key",
                  RUNPOD_API_BASE: `${emulatorUrl}/v2`,
                  LLM_BASE_URL: `${emulatorUrl}/openai/v1`,
                  EMULATOR_URL: emulatorUrl,
                  // Real SillyTavern cards, for import tests (workerd has no file system).
                  TEST_CARD_PNGS: Object.fromEntries(
                    ["seraphina", "codingsensei", "fluxthecat"].map((name) => [
                      name,
                      readFileSync(
                        path.join(import.meta.dirname, `test/fixtures/cards/${name}.png`),
                      ).toString("base64"),
                    ]),
                  ),
                  // Most tests send no CF-Connecting-IP and so share the one "unknown" bucket: generous
                  // limits keep them clear of 429s. test/workers/rate-limit*.test.ts set their own rates.
                  RATE_API_PER_S: "10000",
                  RATE_API_BURST: "10000",
                  RATE_STRICT_PER_S: "10000",
                  RATE_STRICT_BURST: "10000",
                  // Zone `identity` (sign-ins) too; accounts.http.test.ts checks its 429 with its own rate.
                  GUEST_PER_IP_PER_HOUR: "10000",
                  // The emulator's GPU time is 200 ms: poll /status every 1-2 s, not 2-30 s.
                  GENERATION_POLL_INITIAL_S: "1",
                  GENERATION_POLL_MAX_S: "2",
                },
                hyperdrives: { HYPERDRIVE: databaseUrl },
              },
            };
          }),
        ],
        // The repository contract suite (test/workers/repository.contract.test.ts) runs here, in
        // workerd: D1 directly, PostgreSQL through the HYPERDRIVE binding to the global setup's
        // server, with postgres.js over our cloudflare:sockets socket (src/db/pg-socket.ts).
        test: {
          name: "workers",
          testTimeout: TEST_TIMEOUT_MS,
          include: ["test/workers/**/*.test.ts"],
          setupFiles: ["./test/setup/apply-migrations.ts", "./test/setup/settle-sockets.ts"],
        },
      },
      {
        test: {
          name: "node",
          testTimeout: TEST_TIMEOUT_MS,
          environment: "node",
          include: ["test/node/**/*.test.{ts,mjs}"],
        },
      },
    ],
  },
});
