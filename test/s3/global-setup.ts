import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { ensureBucket } from "../../src/storage/s3-store";

/** What the S3 tests connect to; handed to the Worker as `S3_*` bindings. */
export interface S3TestConfig {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    s3: S3TestConfig;
  }
}

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const LOCAL_PROXY = "http://127.0.0.1:8080";
const DEFAULT_BUCKET = "edge-art-test";
// A fresh machine installs the Swift packages first.
const SETUP_TIMEOUT_MS = 15 * 60_000;

/**
 * Uses the S3 server named by `S3_ENDPOINT` (+ `S3_REGION`, `S3_ACCESS_KEY_ID`,
 * `S3_SECRET_ACCESS_KEY`, `S3_BUCKET`), or starts the local Swift from
 * `scripts/s3-swift/setup.sh` and stops it afterwards unless it was already running
 * (or `S3_SWIFT_KEEP=1`). Either way the test bucket exists before any test runs.
 */
export default async function setup(project: TestProject) {
  let config: S3TestConfig;
  let teardown: (() => Promise<void>) | undefined;
  if (process.env.S3_ENDPOINT) {
    config = {
      endpoint: process.env.S3_ENDPOINT,
      region: process.env.S3_REGION ?? "ru-central1",
      bucket: process.env.S3_BUCKET ?? DEFAULT_BUCKET,
      accessKeyId: required("S3_ACCESS_KEY_ID"),
      secretAccessKey: required("S3_SECRET_ACCESS_KEY"),
    };
  } else {
    const wasRunning = await answers(`${LOCAL_PROXY}/info`);
    const { stdout } = await run(`${root}/scripts/s3-swift/setup.sh`, [], {
      cwd: root,
      timeout: SETUP_TIMEOUT_MS,
      maxBuffer: 1 << 20,
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`scripts/s3-swift/setup.sh failed:\n${error.stderr ?? error.message}`);
    });
    const vars = Object.fromEntries(
      stdout.split("\n").flatMap((line) => {
        const match = /^(S3_[A-Z_]+)=(.*)$/.exec(line.trim());
        return match ? [[match[1], match[2]]] : [];
      }),
    );
    config = {
      endpoint: vars.S3_ENDPOINT ?? LOCAL_PROXY,
      region: vars.S3_REGION ?? "ru-central1",
      bucket: process.env.S3_BUCKET ?? DEFAULT_BUCKET,
      accessKeyId: vars.S3_ACCESS_KEY_ID ?? "test:tester",
      secretAccessKey: vars.S3_SECRET_ACCESS_KEY ?? "testing",
    };
    if (!wasRunning && process.env.S3_SWIFT_KEEP !== "1") {
      teardown = async () => {
        await run(`${root}/scripts/s3-swift/stop.sh`, [], { cwd: root });
      };
    }
  }
  await ensureBucket(config);
  project.provide("s3", config);
  return teardown;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`S3_ENDPOINT is set, so ${name} must be set too`);
  return value;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
