import { z } from "zod";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { Id, Page } from "../../http/schemas";
import { decodeCursor } from "../../lib/cursor";
import { listDeadLetters, replayDeadLetter, toAdminJob } from "../../ops/admin/dead-letters";
import { AdminJobSchema, DeadLetterQuery } from "./schemas";

const list = defineRoute({
  method: "get",
  path: "/admin/dead-letters",
  summary: "Operators: jobs failed by the dead-letter queue, newest first",
  tags: ["admin"],
  zone: "api",
  auth: "admin",
  request: { query: DeadLetterQuery },
  responses: { 200: jsonResponse(Page(AdminJobSchema), "A page of dead-lettered jobs") },
});

const replay = defineRoute({
  method: "post",
  path: "/admin/dead-letters/{id}/replay",
  summary: "Operators: put a dead-lettered job back in the queue for a fresh attempt",
  tags: ["admin"],
  zone: "api",
  auth: "admin",
  request: { params: z.object({ id: Id }) },
  responses: {
    200: jsonResponse(AdminJobSchema, "The job, queued again"),
    404: { description: "No such job" },
    409: { description: "The job is not a failed, dead-lettered job" },
    503: { description: "The queue refused the message; the job is unchanged" },
  },
});

export const deadLetters = routes()
  .openapi(list, async (c) => {
    const q = c.req.valid("query");
    c.header("Cache-Control", "no-store");
    return c.json(await listDeadLetters(c.var.services.repo, q.limit, decodeCursor(q.cursor)), 200);
  })
  .openapi(replay, async (c) => {
    const { id } = c.req.valid("param");
    const job = await replayDeadLetter(c.var.services.jobs, id);
    return c.json(toAdminJob(job), 200);
  });
