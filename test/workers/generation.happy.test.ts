import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  createJob,
  directive,
  emulatorJobs,
  generate,
  getJob,
  harness,
  newUser,
  SMALL,
  storedImagesOf,
  uniqueTag,
  waitForEmulatorJob,
  waitForJob,
} from "./generation.support";
import { call, openSocket } from "./support/session";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe("POST /generate through the real queue consumer", { timeout: 30_000 }, () => {
  it("answers 202 at once, then runs the job on RunPod and serves its PNG at the returned URL", async () => {
    const user = await newUser();
    const tag = uniqueTag();
    const res = await generate(user, {
      ...SMALL,
      prompt: `a lighthouse at dusk ${tag}`,
      seed: 42,
      guidance: 5.5,
    });
    expect(res.status).toBe(202);
    const job = await res.json<{ id: string; status: string; params: Record<string, number> }>();
    expect(res.headers.get("Location")).toBe(`/api/v1/generations/${job.id}`);
    expect(job).toMatchObject({
      status: "queued",
      params: { width: 256, height: 256, steps: 4, seed: 42, guidance: 5.5 },
    });
    expect(job).not.toHaveProperty("user_id");
    expect(job).not.toHaveProperty("upstream_id");

    const done = await waitForJob(user, job.id);
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    expect(done).toMatchObject({ attempts: 1, error: null });
    expect(done.started_at).not.toBeNull();
    expect(done.completed_at).not.toBeNull();
    expect(done.images).toEqual([
      {
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:8787\/images\/[0-9a-f]{40}\//),
        width: 256,
        height: 256,
        content_type: "image/png",
      },
    ]);

    const image = await SELF.fetch(done.images[0]?.url ?? "");
    expect(image.status).toBe(200);
    expect(image.headers.get("Content-Type")).toBe("image/png");
    const bytes = new Uint8Array(await image.arrayBuffer());
    expect([...bytes.slice(0, 8)]).toEqual(PNG_SIGNATURE);

    const upstream = await emulatorJobs(tag);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]?.input).toMatchObject({
      prompt: `a lighthouse at dusk ${tag}`,
      width: 256,
      height: 256,
      num_inference_steps: 4,
      guidance_scale: 5.5,
      seed: 42,
      num_images: 1,
    });
    expect(upstream[0]?.webhook).toMatch(new RegExp(`/api/v1/webhooks/runpod/${job.id}/[0-9a-f]{64}$`));
  });

  it("draws a seed when none is given and keeps it on the job", async () => {
    const user = await newUser();
    const job = await createJob(user, { prompt: `seedless ${uniqueTag()}` });
    expect(Number.isInteger(job.params.seed)).toBe(true);
    expect(job.params.seed).toBeGreaterThanOrEqual(0);
    expect(job.params.seed).toBeLessThan(2 ** 32);
  });

  it("finishes by polling /status when RunPod sends no webhook", async () => {
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `quiet harbour ${tag} ${directive({ webhook: "never" })}` });
    const done = await waitForJob(user, job.id);
    expect(done.status).toBe("succeeded");
    const [upstream] = await emulatorJobs(tag);
    expect(upstream?.webhooksSent).toBe(0);
  });

  it("recovers from upstream 429 and 5xx on /run with exactly one upstream job", async () => {
    const user = await newUser();
    const tagA = uniqueTag();
    const tagB = uniqueTag();
    const a = await createJob(user, { prompt: `busy ${tagA} ${directive({ submit: "429x2" })}` });
    const b = await createJob(user, { prompt: `flaky ${tagB} ${directive({ submit: "503x2" })}` });
    expect((await waitForJob(user, a.id)).status).toBe("succeeded");
    expect((await waitForJob(user, b.id)).status).toBe("succeeded");
    expect(await emulatorJobs(tagA)).toHaveLength(1);
    expect(await emulatorJobs(tagB)).toHaveLength(1);
  });

  it("marks a job failed with RunPod's error when the worker fails", async () => {
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `doomed ${tag} ${directive({ job: "fail" })}` });
    const done = await waitForJob(user, job.id);
    expect(done.status).toBe("failed");
    expect(done.error).toEqual({
      code: "upstream_failed",
      message: expect.stringContaining("emulated worker failure"),
    });
    expect(done.images).toEqual([]);
    expect(await emulatorJobs(tag)).toHaveLength(1);
  });

  it("cancels a running job on request, upstream too, and refuses a second cancel with 409", async () => {
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `endless ${tag} ${directive({ job: "hang" })}` });
    await waitForEmulatorJob(tag, (upstream) => upstream.status === "IN_PROGRESS");
    await waitForJob(user, job.id, (j) => j.status === "running");

    const res = await call(user, `/generations/${job.id}/cancel`, { method: "POST" });
    expect(res.status).toBe(200);
    const cancelled = await res.json<{ status: string; completed_at: string | null }>();
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.completed_at).not.toBeNull();
    const [upstream] = await emulatorJobs(tag);
    expect(upstream).toMatchObject({ cancelled: true, status: "CANCELLED" });

    const again = await call(user, `/generations/${job.id}/cancel`, { method: "POST" });
    expect(again.status).toBe(409);
    expect((await again.json<{ code: string }>()).code).toBe("conflict");
    expect((await getJob(user, job.id)).status).toBe("cancelled");
  });

  it("pushes every status change to the owner's sockets as generation.updated", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    const job = await createJob(user, { prompt: `live ${uniqueTag()}` });
    const statuses = ["running", "succeeded"];
    for (const status of statuses) {
      const frame = await socket.next(
        (f) => f.type === "generation.updated" && f.job.id === job.id && f.job.status === status,
        15_000,
      );
      expect(frame.job).not.toHaveProperty("user_id");
    }
    const succeeded = socket.frames.find(
      (f) => f.type === "generation.updated" && f.job.status === "succeeded",
    );
    expect(succeeded?.job.images).toHaveLength(1);
    socket.close();
  });
});

describe("GET /generations", { timeout: 30_000 }, () => {
  it("lists the caller's jobs newest first, pages with a cursor and filters by status", async () => {
    const user = await newUser();
    const h = harness();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await createJob(user, { prompt: `history ${i} ${uniqueTag()}` }, h.fetch)).id);
    const cancel = await h.fetch(user, `/generations/${ids[0]}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);

    const first = await (await call(user, "/generations?limit=2")).json<{
      items: { id: string }[];
      next_cursor: string;
    }>();
    expect(first.items.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await (await call(user, `/generations?limit=2&cursor=${first.next_cursor}`)).json<{
      items: { id: string }[];
      next_cursor: string | null;
    }>();
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[0] })], next_cursor: null });

    const cancelled = await (await call(user, "/generations?status=cancelled")).json<{
      items: { id: string }[];
    }>();
    expect(cancelled.items.map((j) => j.id)).toEqual([ids[0]]);
    const other = await newUser();
    expect((await (await call(other, "/generations")).json<{ items: unknown[] }>()).items).toEqual([]);
  });
});

describe("worker-comfyui", { timeout: 30_000 }, () => {
  it("sends a ComfyUI workflow when RUNPOD_INPUT_FORMAT=comfyui and stores base64 and s3_url outputs", async () => {
    const h = harness({ RUNPOD_INPUT_FORMAT: "comfyui" });
    const user = await newUser();
    const tagA = uniqueTag();
    const tagB = uniqueTag();
    const a = await createJob(user, { prompt: `comfy ${tagA}` }, h.fetch);
    const b = await createJob(
      user,
      { prompt: `comfy s3 ${tagB} ${directive({ format: "comfyui_s3" })}` },
      h.fetch,
    );
    await h.deliverSent();
    await waitForEmulatorJob(tagA, (j) => j.status === "COMPLETED");
    await waitForEmulatorJob(tagB, (j) => j.status === "COMPLETED");
    const [upstream] = await emulatorJobs(tagA);
    expect(upstream?.input).toHaveProperty("workflow");
    await h.deliverSent();

    for (const id of [a.id, b.id]) {
      const job = await getJob(user, id, h.fetch);
      expect(job.status, JSON.stringify(job.error)).toBe("succeeded");
      expect(job.images).toHaveLength(1);
      const image = await h.fetchRaw(job.images[0]?.url ?? "");
      expect([...new Uint8Array(await image.arrayBuffer()).slice(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(await storedImagesOf(id, env.IMAGES)).toHaveLength(1);
    }
  });
});
