import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decodeBase64, sniffImage } from "../../src/generation/image-bytes";
import { comfyuiInput, runpodInput, sdxlInput } from "../../src/generation/input-mappers";
import { GenerationMessage } from "../../src/generation/messages";
import { OutputError, parseRunPodOutput } from "../../src/generation/output-parser";
import { pollDelaySeconds } from "../../src/generation/poll-schedule";
import { RunPodClient, RunPodError } from "../../src/generation/runpod-client";
import { openImageStore } from "../../src/storage/index";
import { R2ImageStore } from "../../src/storage/r2-store";
import { S3ImageStore } from "../../src/storage/s3-store";

const job = {
  id: "gen_01kdx0000000000000000000",
  prompt: "a fox",
  negative_prompt: "blurry",
  params: { width: 768, height: 512, steps: 25, seed: 7, guidance: 6.5 },
};

describe("input mappers", () => {
  it("maps a job to worker-sdxl's input", () => {
    expect(sdxlInput(job)).toEqual({
      prompt: "a fox",
      negative_prompt: "blurry",
      width: 768,
      height: 512,
      num_inference_steps: 25,
      guidance_scale: 6.5,
      seed: 7,
      num_images: 1,
    });
    expect(runpodInput("sdxl", job)).toEqual(sdxlInput(job));
  });

  it("maps a job to a ComfyUI text-to-image workflow", () => {
    const { workflow } = comfyuiInput(job);
    expect(workflow["3"].inputs).toMatchObject({
      seed: 7,
      steps: 25,
      cfg: 6.5,
      positive: ["6", 0],
      negative: ["7", 0],
    });
    expect(workflow["5"].inputs).toEqual({ width: 768, height: 512, batch_size: 1 });
    expect(workflow["6"].inputs.text).toBe("a fox");
    expect(workflow["7"].inputs.text).toBe("blurry");
    expect(runpodInput("comfyui", job)).toEqual(comfyuiInput(job));
  });
});

describe("output parser", () => {
  const png = "iVBORw0KGgo=";
  it("reads worker-sdxl outputs: images list first, else image_url", () => {
    expect(
      parseRunPodOutput({
        image_url: `data:image/png;base64,${png}`,
        images: [`data:image/png;base64,${png}`],
      }),
    ).toEqual([{ kind: "inline", base64: png }]);
    expect(parseRunPodOutput({ image_url: "https://bucket.example/x.png" })).toEqual([
      { kind: "url", url: "https://bucket.example/x.png" },
    ]);
    expect(parseRunPodOutput(`data:image/png;base64,${png}`)).toEqual([{ kind: "inline", base64: png }]);
  });

  it("reads worker-comfyui outputs, base64 and s3_url", () => {
    expect(
      parseRunPodOutput({
        images: [
          { filename: "a.png", type: "base64", data: png },
          { filename: "b.png", type: "s3_url", data: "https://s3.example/b.png" },
        ],
      }),
    ).toEqual([
      { kind: "inline", base64: png },
      { kind: "url", url: "https://s3.example/b.png" },
    ]);
  });

  it("keeps at most 4 images", () => {
    expect(parseRunPodOutput({ images: Array.from({ length: 9 }, () => png) })).toHaveLength(4);
  });

  it.each([
    [null],
    [{}],
    [{ images: [] }],
    [{ images: ["javascript:alert(1)"] }],
    [{ images: [{ type: "ftp", data: "x" }] }],
    [42],
  ])("throws OutputError for %j", (output) => {
    expect(() => parseRunPodOutput(output)).toThrow(OutputError);
  });
});

describe("image bytes", () => {
  it("sniffs PNG (with its size), JPEG and WebP, and nothing else", () => {
    const png = new Uint8Array(24);
    png.set([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 4, 0, 0, 0,
      2, 0,
    ]);
    expect(sniffImage(png)).toEqual({ contentType: "image/png", extension: "png", width: 1024, height: 512 });
    expect(sniffImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0])).contentType).toBe("image/jpeg");
    expect(sniffImage(new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 ")).contentType).toBe("image/webp");
    expect(() => sniffImage(new TextEncoder().encode("<svg onload=alert(1)>"))).toThrow(OutputError);
    expect(() => decodeBase64("not base64!")).toThrow(OutputError);
  });
});

describe("queue messages", () => {
  it("accept ids only and reject anything else", () => {
    expect(GenerationMessage.safeParse({ type: "submit", job_id: "gen_abc" }).success).toBe(true);
    expect(GenerationMessage.safeParse({ type: "poll", job_id: "gen_abc", n: 3 }).success).toBe(true);
    expect(GenerationMessage.safeParse({ type: "poll", job_id: "gen_abc" }).success).toBe(false);
    expect(GenerationMessage.safeParse({ type: "submit", job_id: "gen abc" }).success).toBe(false);
    expect(GenerationMessage.safeParse({ type: "submit", job_id: "gen_abc", prompt: "x" }).success).toBe(
      false,
    );
    expect(GenerationMessage.safeParse("gen_abc").success).toBe(false);
  });

  it("poll with exponential backoff up to the cap", () => {
    const config = { GENERATION_POLL_INITIAL_S: 2, GENERATION_POLL_MAX_S: 30 };
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => pollDelaySeconds(n, config))).toEqual([2, 4, 8, 16, 30, 30, 30]);
  });
});

describe("RunPod client", () => {
  function scripted(responses: Array<Response | Error>) {
    const calls: Request[] = [];
    const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
      calls.push(new Request(input, init));
      const next = responses.shift();
      if (!next) throw new Error("no more scripted responses");
      if (next instanceof Error) throw next;
      return next;
    }) as typeof fetch;
    const client = new RunPodClient({
      baseUrl: "https://api.runpod.test/v2/",
      endpointId: "ep1",
      apiKey: "sk-secret-key",
      baseDelayMs: 1,
      fetch: fetcher,
    });
    return { client, calls };
  }

  it("retries 429, 5xx and network errors, then succeeds, with bearer auth and the policy", async () => {
    const { client, calls } = scripted([
      new Response("slow down", { status: 429 }),
      new Response("oops", { status: 502 }),
      new TypeError("connection reset"),
      Response.json({ id: "up-1", status: "IN_QUEUE" }),
    ]);
    expect(
      await client.run({ prompt: "x" }, { webhook: "https://h/w", executionTimeoutMs: 210_000 }),
    ).toEqual({
      id: "up-1",
      status: "IN_QUEUE",
    });
    expect(calls).toHaveLength(4);
    expect(calls[0]?.url).toBe("https://api.runpod.test/v2/ep1/run");
    expect(calls[0]?.headers.get("Authorization")).toBe("Bearer sk-secret-key");
    expect(await calls[3]?.json()).toEqual({
      input: { prompt: "x" },
      webhook: "https://h/w",
      policy: { executionTimeout: 210_000 },
    });
  });

  it("gives up after 4 attempts with a retryable error that never names the key", async () => {
    const { client, calls } = scripted(
      Array.from({ length: 4 }, () => new Response("down", { status: 503 })),
    );
    const error = await client.run({}, { executionTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunPodError);
    expect((error as RunPodError).retryable).toBe(true);
    expect(String((error as Error).message)).not.toContain("sk-secret-key");
    expect(calls).toHaveLength(4);
  });

  it("does not retry a 400, and reports it as not retryable", async () => {
    const { client, calls } = scripted([new Response("bad input", { status: 400 })]);
    const error = (await client
      .run({}, { executionTimeoutMs: 1000 })
      .catch((e: unknown) => e)) as RunPodError;
    expect(error.retryable).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it("answers null for a job /status does not know, and validates the status body", async () => {
    const { client } = scripted([
      new Response("not found", { status: 404 }),
      Response.json({ id: "x", status: "WEIRD" }),
    ]);
    expect(await client.status("gone")).toBeNull();
    await expect(client.status("x")).rejects.toBeInstanceOf(RunPodError);
  });
});

describe("storage backend", () => {
  it("is R2 by default and S3 with STORAGE_BACKEND=s3", () => {
    expect(openImageStore(env, { STORAGE_BACKEND: "r2" } as never)).toBeInstanceOf(R2ImageStore);
    const s3 = openImageStore(env, {
      STORAGE_BACKEND: "s3",
      S3_ENDPOINT: "https://storage.yandexcloud.net",
      S3_REGION: "ru-central1",
      S3_BUCKET: "art",
      S3_ACCESS_KEY_ID: "id",
      S3_SECRET_ACCESS_KEY: "secret",
    });
    expect(s3).toBeInstanceOf(S3ImageStore);
  });
});
