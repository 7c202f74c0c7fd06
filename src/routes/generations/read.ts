import { Hono } from "hono";
import { ApiError } from "../../errors/api-error";
import { toPublicJob } from "../../generation/public-job";
import { documentRoute } from "../../http/openapi";
import { Id, Page } from "../../http/schemas";
import { parseOr400, query } from "../../http/validate";
import { decodeCursor, page } from "../../lib/cursor";
import { requireUser, userId } from "../../middleware/auth";
import type { AppEnv } from "../../types";
import { GenerationListQuery, JobSchema } from "./schemas";

documentRoute({
  method: "get",
  path: "/api/v1/generations/:id",
  summary: "One of the caller's generation jobs",
  tag: "generations",
  auth: "user",
  responses: { 200: { description: "The job", schema: JobSchema } },
});
documentRoute({
  method: "get",
  path: "/api/v1/generations",
  summary: "The caller's generation history, newest first",
  tag: "generations",
  auth: "user",
  query: GenerationListQuery,
  responses: { 200: { description: "A page of jobs", schema: Page(JobSchema) } },
});

export const readGenerations = new Hono<AppEnv>()
  .get("/generations/:id", requireUser, async (c) => {
    const id = parseOr400(Id, c.req.param("id"), "generation id", "id");
    const job = await c.var.services.repo.jobs.get(id, userId(c));
    if (!job) throw ApiError.notFound("generation");
    return c.json(toPublicJob(job));
  })
  .get("/generations", requireUser, async (c) => {
    const q = query(c, GenerationListQuery);
    const rows = await c.var.services.repo.jobs.list(userId(c), q.limit, decodeCursor(q.cursor), q.status);
    const result = page(rows, q.limit, (job) => ({ sort: job.created_at, id: job.id }));
    return c.json({ items: result.items.map(toPublicJob), next_cursor: result.next_cursor });
  });
