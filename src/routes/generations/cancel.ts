import { Hono } from "hono";
import { ApiError } from "../../errors/api-error";
import { toPublicJob } from "../../generation/public-job";
import { documentRoute } from "../../http/openapi";
import { Id } from "../../http/schemas";
import { parseOr400 } from "../../http/validate";
import { requireUser, userId } from "../../middleware/auth";
import type { AppEnv } from "../../types";
import { jobServiceOf } from "./context";
import { JobSchema } from "./schemas";

documentRoute({
  method: "post",
  path: "/api/v1/generations/:id/cancel",
  summary: "Cancel one of the caller's jobs (and its upstream work); 409 when already terminal",
  tag: "generations",
  auth: "user",
  responses: { 200: { description: "The cancelled job", schema: JobSchema } },
});

export const cancelGeneration = new Hono<AppEnv>().post("/generations/:id/cancel", requireUser, async (c) => {
  const id = parseOr400(Id, c.req.param("id"), "generation id", "id");
  const job = await c.var.services.repo.jobs.get(id, userId(c));
  if (!job) throw ApiError.notFound("generation");
  const cancelled = await jobServiceOf(c).cancel(job);
  if (!cancelled)
    throw ApiError.conflict("The job has already finished; only queued or running jobs can be cancelled.");
  return c.json(toPublicJob(cancelled));
});
