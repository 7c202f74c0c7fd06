import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { allowedImageOrigins } from "../../src/generation/image-download";
import { OutputError } from "../../src/generation/output-parser";
import { storeJobImages } from "../../src/generation/store-images";
import { openImageStore } from "../../src/storage";

const config = loadConfig(env);
const emulator = new URL(env.EMULATOR_URL);
/** The emulator under another name: the same server, but not a configured host. */
const foreign = `http://localhost:${emulator.port}`;
const job = { id: "job_downloadtest", params: { width: 64, height: 64 } } as Parameters<
  typeof storeJobImages
>[1];

function store(url: string, maxImageBytes?: number) {
  return storeJobImages([{ kind: "url", url }], job, {
    config,
    store: openImageStore(env, config),
    ...(maxImageBytes ? { maxImageBytes } : {}),
  });
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => new Error("the download was accepted"),
    (thrown: unknown) => thrown as Error,
  );
  expect(error).toBeInstanceOf(OutputError);
  return error;
}

const blob = (bytes: number, query = "") => `${env.EMULATOR_URL}/_emulator/blob?bytes=${bytes}${query}`;
const redirect = (to: string) => `${env.EMULATOR_URL}/_emulator/redirect?to=${encodeURIComponent(to)}`;

describe("output image downloads", () => {
  it("downloads from the configured RunPod host", async () => {
    const [image] = await store(blob(4096));
    expect(image?.content_type).toBe("image/png");
  });

  it("refuses a host that is neither RunPod's nor S3's, without fetching it", async () => {
    expect((await refusal(store(`${foreign}/_emulator/blob?bytes=4096`))).message).toMatch(/not allowed/);
    await refusal(store("http://169.254.169.254/latest/meta-data/x.png"));
  });

  it("does not follow a redirect to another host", async () => {
    expect((await refusal(store(redirect(`${foreign}/_emulator/blob?bytes=4096`)))).message).toMatch(
      /not allowed/,
    );
  });

  it("follows a redirect within the allowed host, a bounded number of times", async () => {
    expect(await store(redirect(blob(4096)))).toHaveLength(1);
    const fourHops = redirect(redirect(redirect(redirect(blob(4096)))));
    expect((await refusal(store(fourHops))).message).toMatch(/redirects too many times/);
  });

  it("stops reading past the size cap when there is no Content-Length", async () => {
    expect((await refusal(store(blob(300_000, "&length=omit"), 100_000))).message).toMatch(/too large/);
    expect(await store(blob(90_000, "&length=omit"), 100_000)).toHaveLength(1);
  });

  it("refuses a declared Content-Length past the cap", async () => {
    expect((await refusal(store(blob(300_000), 100_000))).message).toMatch(/too large/);
  });

  it("allows the S3 endpoint and its buckets as subdomains, nothing else", () => {
    const origins = allowedImageOrigins({
      RUNPOD_API_BASE: "https://api.runpod.ai/v2",
      S3_ENDPOINT: "https://s3.eu-west-1.amazonaws.com",
    });
    expect(origins).toEqual([
      { protocol: "https:", host: "api.runpod.ai", subdomains: false },
      { protocol: "https:", host: "s3.eu-west-1.amazonaws.com", subdomains: true },
    ]);
  });
});
