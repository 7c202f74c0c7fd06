import { ApiError } from "../../errors/api-error";
import { toPublicJob } from "../../generation/public-job";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { GenerationParams, JobSchema } from "./schemas";

const route = defineRoute({
  method: "post",
  path: "/generations/{id}/cancel",
  summary: "Cancel one of the caller's jobs (and its upstream work); 409 when already terminal",
  tags: ["generations"],
  zone: "api",
  auth: "user",
  request: { params: GenerationParams },
  responses: { 200: jsonResponse(JobSchema, "The cancelled job") },
});

export const cancelGeneration = routes().openapi(route, async (c) => {
  const { id } = c.req.valid("param");
  const { repo, jobs } = c.var.services;
  const job = await repo.jobs.get(id, userId(c));
  if (!job) throw ApiError.notFound("generation");
  const cancelled = await jobs.cancel(job);
  if (!cancelled)
    throw ApiError.conflict("The job has already finished; only queued or running jobs can be cancelled.");
  return c.json(toPublicJob(cancelled), 200);
});
