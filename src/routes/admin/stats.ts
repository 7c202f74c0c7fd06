import { Hono } from "hono";
import { documentRoute } from "../../http/openapi";
import { collectStats } from "../../ops/admin/stats";
import type { AppEnv } from "../../types";
import { AdminStatsSchema } from "./schemas";

documentRoute({
  method: "get",
  path: "/api/v1/admin/stats",
  summary:
    "Operators: jobs by status, jobs waiting in the queue, dead-lettered jobs, open sockets, rate-limit rejections, database health",
  tag: "admin",
  auth: "admin",
  responses: {
    200: {
      description: "Live figures; a section that could not be read is null and named in `unavailable`",
      schema: AdminStatsSchema,
    },
    401: { description: "Missing or wrong admin token (or ADMIN_TOKEN not configured)" },
  },
});

export const adminStats = new Hono<AppEnv>().get("/admin/stats", async (c) => {
  const { repo, config } = c.var.services;
  c.header("Cache-Control", "no-store");
  return c.json(await collectStats(c.env, repo, config));
});
