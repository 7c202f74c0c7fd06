import { budgetExhausted, countSpend, imageCost } from "../../abuse/credits";
import { ApiError } from "../../errors/api-error";
import { newQueuedJob } from "../../generation/new-job";
import { toPublicJob } from "../../generation/public-job";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { parseOr400 } from "../../http/validate";
import { userId } from "../../middleware/auth";
import { requestHash } from "./request-hash";
import { GenerateBody, IdempotencyKey, JobSchema } from "./schemas";

/** API.md: the same key from the same user within 24 h returns the original job. */
const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

const route = defineRoute({
  method: "post",
  path: "/generate",
  summary: "Queue an image generation (Idempotency-Key header optional)",
  tags: ["generations"],
  zone: "strict",
  auth: "user",
  request: { body: jsonRequest(GenerateBody) },
  responses: {
    202: jsonResponse(JobSchema, "Queued; Location names the job"),
    200: jsonResponse(JobSchema, "The job this Idempotency-Key created before"),
  },
});

export const createGeneration = routes().openapi(route, async (c) => {
  const owner = userId(c);
  const keyHeader = c.req.header("Idempotency-Key");
  const key =
    keyHeader === undefined ? undefined : parseOr400(IdempotencyKey, keyHeader, "Idempotency-Key header");
  const body = c.req.valid("json");
  const { repo, config, jobs } = c.var.services;
  const nowMs = Date.now();

  let idempotency: { key: string; requestHash: string } | undefined;
  if (key !== undefined) {
    idempotency = { key, requestHash: await requestHash(body) };
    const existing = await repo.jobs.findByIdempotencyKey(owner, key);
    if (existing && Date.parse(existing.createdAt) > nowMs - IDEMPOTENCY_WINDOW_MS) {
      if (existing.requestHash !== idempotency.requestHash) throw keyConflict();
      const original = await repo.jobs.get(existing.jobId, owner);
      if (original) return c.json(toPublicJob(original), 200, { Location: location(original.id) });
    } else if (existing) {
      await repo.jobs.forgetIdempotencyKey(owner, key, new Date(nowMs - IDEMPOTENCY_WINDOW_MS).toISOString());
    }
  }
  if (body.character_id && !(await repo.characters.get(body.character_id, owner))) {
    throw ApiError.notFound("character");
  }

  const job = newQueuedJob(
    {
      user_id: owner,
      prompt: body.prompt,
      negative_prompt: body.negative_prompt,
      params: {
        width: body.width,
        height: body.height,
        steps: body.steps,
        seed: body.seed,
        guidance: body.guidance,
      },
      character_id: body.character_id ?? null,
    },
    nowMs,
  );
  const result = await jobs.accept(job, idempotency);
  if (result.kind === "budget_exhausted") {
    countSpend(c.env, "image", "refused", owner, result.cost);
    throw budgetExhausted(result.cost, nowMs);
  }
  if (result.kind === "created") countSpend(c.env, "image", "charged", owner, imageCost(job.params));
  if (result.kind === "quota_exceeded") {
    throw new ApiError(
      429,
      "quota_exceeded",
      `At most ${config.MAX_ACTIVE_JOBS_PER_USER} generations may be queued or running at once; wait for one to finish.`,
    );
  }
  if (result.kind === "key_conflict") throw keyConflict();
  if (result.kind === "replayed")
    return c.json(toPublicJob(result.job), 200, { Location: location(result.job.id) });

  if (!(await jobs.enqueue(job))) {
    // The request failed as a whole: a retry with the same key must be able to create a job.
    if (idempotency) await repo.jobs.forgetIdempotencyKey(owner, idempotency.key);
    throw new ApiError(503, "upstream_unavailable", "The generation queue is unavailable; retry shortly.", {
      headers: { "Retry-After": "5" },
    });
  }
  return c.json(toPublicJob(job), 202, { Location: location(job.id) });
});

function location(id: string): string {
  return `/api/v1/generations/${id}`;
}

function keyConflict(): ApiError {
  return ApiError.conflict("This Idempotency-Key was used with a different request body.");
}
