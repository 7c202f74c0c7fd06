import { defineRoute, jsonResponse, routes } from "../../http/route";
import { collectStats } from "../../ops/admin/stats";
import { AdminStatsSchema } from "./schemas";

const route = defineRoute({
  method: "get",
  path: "/admin/stats",
  summary:
    "Operators: jobs by status, jobs waiting in the queue, dead-lettered jobs, open sockets, rate-limit rejections, database health",
  tags: ["admin"],
  zone: "api",
  auth: "admin",
  responses: {
    200: jsonResponse(
      AdminStatsSchema,
      "Live figures; a section that could not be read is null and named in `unavailable`",
    ),
    401: { description: "Missing or wrong admin token (or ADMIN_TOKEN not configured)" },
  },
});

export const adminStats = routes().openapi(route, async (c) => {
  const { repo, config } = c.var.services;
  c.header("Cache-Control", "no-store");
  return c.json(await collectStats(c.env, repo, config), 200);
});
