import { readFileSync } from "node:fs";
import path from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import type { S3TestConfig } from "./test/s3/global-setup";

/**
 * The image stores inside workerd against a real SigV4-checking S3 server (OpenStack
 * Swift + s3api, started by the global setup unless S3_ENDPOINT names one) and the
 * miniflare R2 binding. Kept apart from `npm test` because it needs that server.
 */
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => {
      const s3: S3TestConfig = inject("s3");
      const png = readFileSync(path.join(import.meta.dirname, "test/fixtures/cards/seraphina.png"));
      return {
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            S3_ENDPOINT: s3.endpoint,
            S3_REGION: s3.region,
            S3_BUCKET: s3.bucket,
            S3_ACCESS_KEY_ID: s3.accessKeyId,
            S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
            TEST_PNG_BASE64: png.toString("base64"),
          },
        },
      };
    }),
  ],
  test: {
    name: "s3",
    globalSetup: ["./test/s3/global-setup.ts"],
    include: ["test/s3/**/*.test.ts"],
  },
});
