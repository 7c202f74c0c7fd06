import { spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import { crc32, inflateSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { renderImage } from "../../emulator/runpod/png.mjs";
import { directive, startEmulator } from "../../emulator/runpod/server.mjs";

const AUTH = { authorization: "Bearer test-key", "content-type": "application/json" };
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let emulator;
let webhooks;

beforeAll(async () => {
  emulator = await startEmulator({ gpuTimeMs: 30, queueDelayMs: 5, webhookRetryMs: 50 });
  webhooks = await startWebhookReceiver();
});

afterAll(async () => {
  await emulator?.close();
  await webhooks?.close();
});

afterEach(async () => {
  await fetch(`${emulator.url}/_emulator/config`, {
    method: "POST",
    body: JSON.stringify({ gpuTimeMs: 30, faultRate: 0, webhook: "send" }),
  });
});

/** A unique prompt per test, so assertions on `/_emulator/jobs` only see this test's jobs. */
let promptCounter = 0;
const uniquePrompt = (text) => `${text} #${++promptCounter}-${Date.now()}`;

async function post(path, body, headers = AUTH) {
  const response = await fetch(`${emulator.url}${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function status(endpoint, id) {
  const response = await fetch(`${emulator.url}/v2/${endpoint}/status/${id}`, { headers: AUTH });
  return { status: response.status, body: await response.json() };
}

async function waitFor(check, { timeoutMs = 3000, intervalMs = 10 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function runToEnd(endpoint, body) {
  const submitted = await post(`/v2/${endpoint}/run`, body);
  expect(submitted.status).toBe(200);
  return waitFor(async () => {
    const { body: current } = await status(endpoint, submitted.body.id);
    return ["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"].includes(current.status) ? current : null;
  });
}

async function jobsFor(prompt) {
  const response = await fetch(
    `${emulator.url}/_emulator/jobs?prompt_contains=${encodeURIComponent(prompt)}`,
  );
  return (await response.json()).jobs;
}

/** Parses a PNG strictly: signature, chunk CRCs, IHDR, and IDAT that inflates to the full raster. */
function readPng(bytes) {
  expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  const chunks = [];
  for (let offset = 8; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString("latin1", offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    expect(bytes.readUInt32BE(offset + 8 + length)).toBe(
      crc32(bytes.subarray(offset + 4, offset + 8 + length)),
    );
    chunks.push({ type, data });
    offset += 12 + length;
  }
  expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
  const ihdr = chunks[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const raster = inflateSync(Buffer.concat(chunks.filter((c) => c.type === "IDAT").map((c) => c.data)));
  expect(raster.length).toBe(height * (1 + width * 3));
  return { width, height, bitDepth: ihdr[8], colourType: ihdr[9], raster };
}

const fromDataUrl = (url) => {
  expect(url.startsWith("data:image/png;base64,")).toBe(true);
  return Buffer.from(url.slice("data:image/png;base64,".length), "base64");
};

async function startWebhookReceiver() {
  const received = [];
  const server = http.createServer(async (req, res) => {
    const parts = [];
    for await (const part of req) parts.push(part);
    received.push({ path: req.url, body: JSON.parse(Buffer.concat(parts).toString("utf8")) });
    res.writeHead(req.url.includes("/refuse") ? 500 : 200).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: (name) => `${base}/${name}`,
    for: (name) => received.filter((hook) => hook.path === `/${name}`),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe("authentication and request validation", () => {
  it("answers 401 when the bearer key is missing", async () => {
    const run = await post(
      "/v2/sdxl/run",
      { input: { prompt: "x" } },
      { "content-type": "application/json" },
    );
    expect(run.status).toBe(401);
    const health = await fetch(`${emulator.url}/v2/sdxl/health`);
    expect(health.status).toBe(401);
    const empty = await post("/v2/sdxl/run", { input: { prompt: "x" } }, { authorization: "Bearer " });
    expect(empty.status).toBe(401);
  });

  it("accepts only the configured key when apiKey is set", async () => {
    const strict = await startEmulator({ apiKey: "right-key" });
    try {
      const wrong = await fetch(`${strict.url}/v2/sdxl/health`, {
        headers: { authorization: "Bearer wrong" },
      });
      expect(wrong.status).toBe(401);
      const right = await fetch(`${strict.url}/v2/sdxl/health`, {
        headers: { authorization: "Bearer right-key" },
      });
      expect(right.status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it("answers 400 with a JSON error for malformed JSON and keeps serving", async () => {
    const response = await fetch(`${emulator.url}/v2/sdxl/run`, {
      method: "POST",
      headers: AUTH,
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/JSON/);
    const health = await fetch(`${emulator.url}/v2/sdxl/health`, { headers: AUTH });
    expect(health.status).toBe(200);
  });

  it("answers 400 when input is missing, the webhook is not a URL or a directive is unknown", async () => {
    expect((await post("/v2/sdxl/run", {})).status).toBe(400);
    expect((await post("/v2/sdxl/run", { input: { prompt: "x" }, webhook: "ftp://x" })).status).toBe(400);
    expect(
      (await post("/v2/sdxl/run", { input: { prompt: "x" }, policy: { executionTimeout: -5 } })).status,
    ).toBe(400);
    const typo = await post("/v2/sdxl/run", { input: { prompt: "x [[emu:jbo=fail]]" } });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatch(/jbo/);
  });

  it("answers 404 for an unknown job id and for a job of another endpoint", async () => {
    expect((await status("sdxl", "no-such-job")).status).toBe(404);
    const { body } = await post("/v2/endpoint-a/run", { input: { prompt: uniquePrompt("scoped") } });
    expect((await status("endpoint-b", body.id)).status).toBe(404);
    expect((await status("endpoint-a", body.id)).status).toBe(200);
    const cancel = await post(`/v2/sdxl/cancel/no-such-job`, {});
    expect(cancel.status).toBe(404);
  });
});

describe("image jobs", () => {
  it("runs a job through IN_QUEUE and IN_PROGRESS to COMPLETED with a PNG of the requested size", async () => {
    const submitted = await post("/v2/sdxl/run", {
      input: {
        prompt: uniquePrompt(`a red fox ${directive({ gpu: 400 })}`),
        width: 512,
        height: 768,
        seed: 42,
      },
    });
    expect(submitted.body).toEqual({ id: expect.any(String), status: "IN_QUEUE" });
    await waitFor(async () => (await status("sdxl", submitted.body.id)).body.status === "IN_PROGRESS");
    const done = await waitFor(async () => {
      const { body } = await status("sdxl", submitted.body.id);
      return body.status === "COMPLETED" ? body : null;
    });
    expect(done.executionTime).toBeGreaterThanOrEqual(390);
    expect(done.delayTime).toBeGreaterThanOrEqual(0);
    expect(done.output.seed).toBe(42);
    expect(done.output.images).toHaveLength(1);
    expect(done.output.image_url).toBe(done.output.images[0]);
    const png = readPng(fromDataUrl(done.output.image_url));
    expect(png).toMatchObject({ width: 512, height: 768, bitDepth: 8, colourType: 2 });
  });

  it("renders 1024x1024 by default and one image per num_images", async () => {
    const done = await runToEnd("sdxl", {
      input: { prompt: uniquePrompt("castle"), num_images: 2, seed: 1 },
    });
    expect(done.output.images).toHaveLength(2);
    const [first, second] = done.output.images.map((url) => fromDataUrl(url));
    expect(readPng(first)).toMatchObject({ width: 1024, height: 1024 });
    expect(first.equals(second)).toBe(false);
  });

  it("gives the same bytes for the same prompt and seed, and different bytes for another seed", async () => {
    const prompt = "a lighthouse at dusk";
    const input = (seed) => ({ input: { prompt, width: 256, height: 256, seed } });
    const [a, b, c] = await Promise.all([
      runToEnd("sdxl", input(7)),
      runToEnd("sdxl", input(7)),
      runToEnd("sdxl", input(8)),
    ]);
    expect(fromDataUrl(a.output.image_url).equals(fromDataUrl(b.output.image_url))).toBe(true);
    expect(fromDataUrl(a.output.image_url).equals(fromDataUrl(c.output.image_url))).toBe(false);
    const directed = await runToEnd("sdxl", {
      input: { prompt: `${prompt} ${directive({ gpu: 1 })}`, width: 256, height: 256, seed: 7 },
    });
    expect(directed.output.image_url).toBe(a.output.image_url);
  });

  it("renders the largest size the API allows as a complete PNG", () => {
    // Its speed is a benchmark's business (tests never assert timings): here, that it is whole.
    const png = readPng(Buffer.from(renderImage({ prompt: "largest", seed: 3, width: 1536, height: 1536 })));
    expect([png.width, png.height]).toEqual([1536, 1536]);
  });

  it("fails the job like a worker would when the parameters are invalid", async () => {
    const done = await runToEnd("sdxl", { input: { prompt: uniquePrompt("too big"), width: 100000 } });
    expect(done.status).toBe("FAILED");
    expect(done.error).toMatch(/width/);
  });

  it("answers /runsync with the final status object", async () => {
    const { status: code, body } = await post("/v2/sdxl/runsync", {
      input: { prompt: uniquePrompt("sync"), width: 64, height: 64 },
    });
    expect(code).toBe(200);
    expect(body.status).toBe("COMPLETED");
    expect(readPng(fromDataUrl(body.output.image_url))).toMatchObject({ width: 64, height: 64 });
  });

  it("ends a job FAILED with an error message on job=fail", async () => {
    const done = await runToEnd("sdxl", {
      input: { prompt: uniquePrompt(`doomed ${directive({ job: "fail" })}`) },
    });
    expect(done.status).toBe("FAILED");
    expect(done.error).toEqual(expect.any(String));
    expect(done.output).toBeUndefined();
  });

  it("cancels a running job, records the cancel and sends no webhook", async () => {
    const prompt = uniquePrompt(`slow ${directive({ gpu: 5000 })}`);
    const { body } = await post("/v2/sdxl/run", { input: { prompt }, webhook: webhooks.url("cancelled") });
    await waitFor(async () => (await status("sdxl", body.id)).body.status === "IN_PROGRESS");
    const cancel = await post(`/v2/sdxl/cancel/${body.id}`, {});
    expect(cancel.body).toEqual({ id: body.id, status: "CANCELLED" });
    await sleep(50);
    expect((await status("sdxl", body.id)).body.status).toBe("CANCELLED");
    const [job] = await jobsFor(prompt);
    expect(job).toMatchObject({ id: body.id, status: "CANCELLED", cancelled: true, webhooksSent: 0 });
    expect(webhooks.for("cancelled")).toHaveLength(0);
  });

  it("times a hanging job out after policy.executionTimeout", async () => {
    const prompt = uniquePrompt(`stuck ${directive({ job: "hang" })}`);
    const { body } = await post("/v2/sdxl/run", { input: { prompt }, policy: { executionTimeout: 600 } });
    await sleep(200);
    expect((await status("sdxl", body.id)).body.status).toBe("IN_PROGRESS");
    const done = await waitFor(async () => {
      const current = (await status("sdxl", body.id)).body;
      return current.status === "TIMED_OUT" ? current : null;
    });
    expect(done.executionTime).toBeGreaterThanOrEqual(590);
  });

  it("keeps a hanging job IN_PROGRESS until it is cancelled", async () => {
    const { body } = await post("/v2/sdxl/run", {
      input: { prompt: uniquePrompt(`forever ${directive({ job: "hang" })}`) },
    });
    await sleep(150);
    expect((await status("sdxl", body.id)).body.status).toBe("IN_PROGRESS");
    expect((await post(`/v2/sdxl/cancel/${body.id}`, {})).body.status).toBe("CANCELLED");
  });

  it("rejects the first two submits of a prompt carrying submit=429x2, then accepts it once", async () => {
    const prompt = uniquePrompt(`busy ${directive({ submit: "429x2" })}`);
    const first = await post("/v2/sdxl/run", { input: { prompt } });
    const second = await post("/v2/sdxl/run", { input: { prompt } });
    const third = await post("/v2/sdxl/run", { input: { prompt } });
    expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
    expect(first.headers.get("retry-after")).toBe("1");
    const jobs = await jobsFor(prompt);
    expect(jobs.map((job) => job.id)).toEqual([third.body.id]);
  });

  it("answers 503 once on submit=503x1", async () => {
    const prompt = uniquePrompt(`flaky ${directive({ submit: "503x1" })}`);
    expect((await post("/v2/sdxl/run", { input: { prompt } })).status).toBe(503);
    expect((await post("/v2/sdxl/run", { input: { prompt } })).status).toBe(200);
  });

  it("lets health report the endpoint's jobs and workers", async () => {
    const endpoint = `health-${Date.now()}`;
    await post(`/v2/${endpoint}/run`, { input: { prompt: `hang ${directive({ job: "hang" })}` } });
    await runToEnd(endpoint, { input: { prompt: "done", width: 8, height: 8 } });
    await runToEnd(endpoint, { input: { prompt: `bad ${directive({ job: "fail" })}`, width: 8, height: 8 } });
    const response = await fetch(`${emulator.url}/v2/${endpoint}/health`, { headers: AUTH });
    expect(await response.json()).toEqual({
      jobs: { completed: 1, failed: 1, inProgress: 1, inQueue: 0, retried: 0 },
      workers: { idle: 0, running: 1 },
    });
  });

  it("keeps a thousand jobs in flight at once and completes them all", async () => {
    const endpoint = `load-${Date.now()}`;
    const health = async () =>
      (await (await fetch(`${emulator.url}/v2/${endpoint}/health`, { headers: AUTH })).json()).jobs;
    const body = JSON.stringify({
      input: { prompt: `load ${directive({ gpu: 1500 })}`, width: 8, height: 8 },
    });
    // node:http with a pooled agent: undici would open a socket per request and measure itself, not the emulator.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    const submit = () =>
      new Promise((resolve, reject) => {
        const req = http.request(
          `${emulator.url}/v2/${endpoint}/run`,
          { method: "POST", agent, headers: AUTH },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    try {
      const statuses = await Promise.all(Array.from({ length: 1000 }, submit));
      expect(statuses.filter((code) => code === 200)).toHaveLength(1000);
    } finally {
      agent.destroy();
    }
    const inFlight = await health();
    expect(inFlight.inQueue + inFlight.inProgress + inFlight.completed).toBe(1000);
    expect(inFlight.completed).toBeLessThan(1000);
    await waitFor(async () => (await health()).completed === 1000, { timeoutMs: 15_000, intervalMs: 50 });
  }, 30_000);
});

describe("ComfyUI workflows", () => {
  const workflow = (text, { width = 320, height = 192, seed = 9, batch = 1 } = {}) => ({
    3: {
      class_type: "KSampler",
      inputs: { seed, steps: 20, positive: ["6", 0], negative: ["7", 0], latent_image: ["5", 0] },
    },
    5: { class_type: "EmptyLatentImage", inputs: { width, height, batch_size: batch } },
    6: { class_type: "CLIPTextEncode", inputs: { text } },
    7: { class_type: "CLIPTextEncode", inputs: { text: "blurry" } },
    9: { class_type: "SaveImage", inputs: { images: ["8", 0] } },
  });

  it("answers a workflow in worker-comfyui's base64 format, sized by EmptyLatentImage", async () => {
    const done = await runToEnd("comfy", { input: { workflow: workflow(uniquePrompt("a robot")) } });
    expect(done.output.images).toEqual([
      { filename: expect.stringMatching(/\.png$/), type: "base64", data: expect.any(String) },
    ]);
    expect(readPng(Buffer.from(done.output.images[0].data, "base64"))).toMatchObject({
      width: 320,
      height: 192,
    });
  });

  it("takes prompt and seed from the workflow, so the picture matches the SDXL one", async () => {
    const prompt = uniquePrompt("same picture");
    const comfy = await runToEnd("comfy", {
      input: { workflow: workflow(prompt, { width: 64, height: 64, seed: 5 }) },
    });
    const sdxl = await runToEnd("sdxl", { input: { prompt, width: 64, height: 64, seed: 5 } });
    expect(`data:image/png;base64,${comfy.output.images[0].data}`).toBe(sdxl.output.image_url);
  });

  it("answers s3_url images that the emulator serves on format=comfyui_s3", async () => {
    const done = await runToEnd("comfy", {
      input: {
        workflow: workflow(uniquePrompt(`bucket ${directive({ format: "comfyui_s3" })}`), { batch: 2 }),
      },
    });
    expect(done.output.images).toHaveLength(2);
    for (const image of done.output.images) {
      expect(image.type).toBe("s3_url");
      expect(image.data.startsWith(`${emulator.url}/files/`)).toBe(true);
      const response = await fetch(image.data);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/png");
      expect(readPng(Buffer.from(await response.arrayBuffer()))).toMatchObject({ width: 320, height: 192 });
    }
    expect((await fetch(`${emulator.url}/files/nope_0.png`)).status).toBe(404);
  });

  it("answers an SDXL-style request in ComfyUI format on format=comfyui", async () => {
    const done = await runToEnd("sdxl", {
      input: { prompt: uniquePrompt(`x ${directive({ format: "comfyui" })}`), width: 32, height: 32 },
    });
    expect(done.output.images[0].type).toBe("base64");
    expect(done.output.image_url).toBeUndefined();
  });
});

describe("webhooks", () => {
  it("POSTs the final status object to the webhook once", async () => {
    const { body } = await post("/v2/sdxl/run", {
      input: { prompt: uniquePrompt("hooked"), width: 16, height: 16 },
      webhook: webhooks.url("once"),
    });
    const [hook] = await waitFor(() => (webhooks.for("once").length > 0 ? webhooks.for("once") : null));
    expect(hook.body).toMatchObject({
      id: body.id,
      status: "COMPLETED",
      output: { images: [expect.any(String)] },
    });
    expect(hook.body).toEqual((await status("sdxl", body.id)).body);
    await sleep(100);
    expect(webhooks.for("once")).toHaveLength(1);
  });

  it("delivers the webhook of a FAILED job too", async () => {
    await post("/v2/sdxl/run", {
      input: { prompt: uniquePrompt(`x ${directive({ job: "fail" })}`) },
      webhook: webhooks.url("failed"),
    });
    const [hook] = await waitFor(() => (webhooks.for("failed").length > 0 ? webhooks.for("failed") : null));
    expect(hook.body.status).toBe("FAILED");
    expect(hook.body.error).toEqual(expect.any(String));
  });

  it("delivers the webhook twice on webhook=twice", async () => {
    const prompt = uniquePrompt(`dup ${directive({ webhook: "twice" })}`);
    await post("/v2/sdxl/run", { input: { prompt, width: 8, height: 8 }, webhook: webhooks.url("twice") });
    const hooks = await waitFor(() => (webhooks.for("twice").length === 2 ? webhooks.for("twice") : null));
    expect(hooks[0].body).toEqual(hooks[1].body);
    await waitFor(async () => (await jobsFor(prompt))[0].webhooksSent === 2);
  });

  it("never delivers on webhook=never, though the job completes", async () => {
    const prompt = uniquePrompt(`silent ${directive({ webhook: "never" })}`);
    const { body } = await post("/v2/sdxl/run", {
      input: { prompt, width: 8, height: 8 },
      webhook: webhooks.url("never"),
    });
    await waitFor(async () => (await status("sdxl", body.id)).body.status === "COMPLETED");
    await sleep(100);
    expect(webhooks.for("never")).toHaveLength(0);
    expect((await jobsFor(prompt))[0]).toMatchObject({ webhook: webhooks.url("never"), webhooksSent: 0 });
  });

  it("follows the global webhook knob when no directive is given", async () => {
    await post("/_emulator/config", { webhook: "twice" }, {});
    await post("/v2/sdxl/run", {
      input: { prompt: uniquePrompt("knob"), width: 8, height: 8 },
      webhook: webhooks.url("knob"),
    });
    await waitFor(() => webhooks.for("knob").length === 2);
  });

  it("retries a webhook that got no 2xx twice more, as RunPod does", async () => {
    const prompt = uniquePrompt("refused");
    await post("/v2/sdxl/run", { input: { prompt, width: 8, height: 8 }, webhook: webhooks.url("refuse") });
    await waitFor(() => webhooks.for("refuse").length === 3);
    await sleep(150);
    expect(webhooks.for("refuse")).toHaveLength(3);
    expect((await jobsFor(prompt))[0]).toMatchObject({ webhooksSent: 3, webhookFailures: 3 });
  });
});

describe("control routes", () => {
  it("reads and merges the global config, refusing unknown keys and bad values", async () => {
    const updated = await post("/_emulator/config", { gpuTimeMs: 5, tokenDelayMs: 1 }, {});
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ gpuTimeMs: 5, tokenDelayMs: 1, queueDelayMs: 5 });
    expect((await post("/_emulator/config", { gpuTimeMs: -1 }, {})).status).toBe(400);
    expect((await post("/_emulator/config", { faultRate: 2 }, {})).status).toBe(400);
    expect((await post("/_emulator/config", { nope: 1 }, {})).status).toBe(400);
    const current = await (await fetch(`${emulator.url}/_emulator/config`)).json();
    expect(current.gpuTimeMs).toBe(5);
  });

  it("makes every submit meet a fault at faultRate 1", async () => {
    await post("/_emulator/config", { faultRate: 1 }, {});
    const prompt = uniquePrompt("chaos");
    const results = await Promise.all(
      Array.from({ length: 40 }, () => post("/v2/sdxl/run", { input: { prompt, width: 8, height: 8 } })),
    );
    const rejected = results.filter((result) => result.status !== 200);
    expect(rejected.every((result) => [429, 503].includes(result.status))).toBe(true);
    const jobs = await jobsFor(prompt);
    expect(jobs).toHaveLength(results.length - rejected.length);
    expect(jobs.every((job) => ["fail", "webhookDrop"].includes(job.fault))).toBe(true);
  });

  it("forgets every job on reset", async () => {
    const isolated = await startEmulator({ gpuTimeMs: 5, queueDelayMs: 1 });
    try {
      const headers = { ...AUTH };
      const run = await fetch(`${isolated.url}/v2/sdxl/run`, {
        method: "POST",
        headers,
        body: JSON.stringify({ input: { prompt: "p" } }),
      });
      const { id } = await run.json();
      await fetch(`${isolated.url}/_emulator/config`, {
        method: "POST",
        body: JSON.stringify({ gpuTimeMs: 999 }),
      });
      expect((await (await fetch(`${isolated.url}/_emulator/jobs`)).json()).jobs).toHaveLength(1);
      expect((await fetch(`${isolated.url}/_emulator/reset`, { method: "POST" })).status).toBe(200);
      expect((await (await fetch(`${isolated.url}/_emulator/jobs`)).json()).jobs).toHaveLength(0);
      expect((await fetch(`${isolated.url}/v2/sdxl/status/${id}`, { headers })).status).toBe(404);
      expect((await (await fetch(`${isolated.url}/_emulator/config`)).json()).gpuTimeMs).toBe(5);
    } finally {
      await isolated.close();
    }
  });

  it("drops finished jobs after the retention period", async () => {
    const isolated = await startEmulator({ gpuTimeMs: 1, queueDelayMs: 1, retentionMs: 50 });
    try {
      const sync = await fetch(`${isolated.url}/v2/sdxl/runsync`, {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify({ input: { prompt: "short-lived", width: 8, height: 8 } }),
      });
      const { id, status: final } = await sync.json();
      expect(final).toBe("COMPLETED");
      await sleep(100);
      expect((await fetch(`${isolated.url}/v2/sdxl/status/${id}`, { headers: AUTH })).status).toBe(404);
    } finally {
      await isolated.close();
    }
  });
});

describe("command line", () => {
  it("listens on the given port and prints one line with its URL", async () => {
    const child = spawn(
      process.execPath,
      ["emulator/runpod/server.mjs", "--port", "0", "--gpu-time-ms", "10"],
      {
        cwd: new URL("../..", import.meta.url),
        env: { ...process.env, EMULATOR_QUEUE_DELAY_MS: "3" },
      },
    );
    try {
      const [line] = await once(child.stdout, "data");
      const match = /^runpod-emulator listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(line.toString());
      expect(match).not.toBeNull();
      const config = await (await fetch(`${match[1]}/_emulator/config`)).json();
      expect(config).toMatchObject({ gpuTimeMs: 10, queueDelayMs: 3 });
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  });

  it("exits with status 2 on an unknown option", async () => {
    const child = spawn(process.execPath, ["emulator/runpod/server.mjs", "--gpu-tme-ms", "10"], {
      cwd: new URL("../..", import.meta.url),
    });
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
  });
});
