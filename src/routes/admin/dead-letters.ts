import { Hono } from "hono";
import { documentRoute } from "../../http/openapi";
import { Id, Page } from "../../http/schemas";
import { parseOr400, query } from "../../http/validate";
import { decodeCursor } from "../../lib/cursor";
import { listDeadLetters, replayDeadLetter, toAdminJob } from "../../ops/admin/dead-letters";
import type { AppEnv } from "../../types";
import { jobServiceOf } from "../generations/context";
import { AdminJobSchema, DeadLetterQuery } from "./schemas";

documentRoute({
  method: "get",
  path: "/api/v1/admin/dead-letters",
  summary: "Operators: jobs failed by the dead-letter queue, newest first",
  tag: "admin",
  auth: "admin",
  query: DeadLetterQuery,
  responses: { 200: { description: "A page of dead-lettered jobs", schema: Page(AdminJobSchema) } },
});
documentRoute({
  method: "post",
  path: "/api/v1/admin/dead-letters/:id/replay",
  summary: "Operators: put a dead-lettered job back in the queue for a fresh attempt",
  tag: "admin",
  auth: "admin",
  responses: {
    200: { description: "The job, queued again", schema: AdminJobSchema },
    404: { description: "No such job" },
    409: { description: "The job is not a failed, dead-lettered job" },
    503: { description: "The queue refused the message; the job is unchanged" },
  },
});

export const deadLetters = new Hono<AppEnv>()
  .get("/admin/dead-letters", async (c) => {
    const q = query(c, DeadLetterQuery);
    c.header("Cache-Control", "no-store");
    return c.json(await listDeadLetters(c.var.services.repo, q.limit, decodeCursor(q.cursor)));
  })
  .post("/admin/dead-letters/:id/replay", async (c) => {
    const id = parseOr400(Id, c.req.param("id"), "job id", "id");
    const job = await replayDeadLetter(jobServiceOf(c), id);
    return c.json(toAdminJob(job));
  });
