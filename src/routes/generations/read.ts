import { ApiError } from "../../errors/api-error";
import { toPublicJob } from "../../generation/public-job";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { Page } from "../../http/schemas";
import { decodeCursor, page } from "../../lib/cursor";
import { userId } from "../../middleware/auth";
import { GenerationListQuery, GenerationParams, JobSchema } from "./schemas";

const one = defineRoute({
  method: "get",
  path: "/generations/{id}",
  summary: "One of the caller's generation jobs",
  tags: ["generations"],
  zone: "api",
  auth: "user",
  request: { params: GenerationParams },
  responses: { 200: jsonResponse(JobSchema, "The job") },
});

const list = defineRoute({
  method: "get",
  path: "/generations",
  summary: "The caller's generation history, newest first",
  tags: ["generations"],
  zone: "api",
  auth: "user",
  request: { query: GenerationListQuery },
  responses: { 200: jsonResponse(Page(JobSchema), "A page of jobs") },
});

export const readGenerations = routes()
  .openapi(one, async (c) => {
    const { id } = c.req.valid("param");
    const job = await c.var.services.repo.jobs.get(id, userId(c));
    if (!job) throw ApiError.notFound("generation");
    return c.json(toPublicJob(job), 200);
  })
  .openapi(list, async (c) => {
    const q = c.req.valid("query");
    const rows = await c.var.services.repo.jobs.list(userId(c), q.limit, decodeCursor(q.cursor), q.status);
    const result = page(rows, q.limit, (job) => ({ sort: job.created_at, id: job.id }));
    return c.json({ items: result.items.map(toPublicJob), next_cursor: result.next_cursor }, 200);
  });
