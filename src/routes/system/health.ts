import { Hono } from "hono";
import { z } from "zod";
import { documentRoute } from "../../http/openapi";
import { log } from "../../ops/log";
import type { AppEnv } from "../../types";
import { VERSION } from "../../version";

const Health = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  checks: z.record(z.string(), z.string()),
});

documentRoute({
  method: "get",
  path: "/api/v1/health",
  summary: "Service health with a database check",
  tag: "system",
  responses: {
    200: { description: "Healthy", schema: Health },
    503: { description: "A dependency is down", schema: Health },
  },
});

export const health = new Hono<AppEnv>().get("/health", async (c) => {
  const { repo, config } = c.var.services;
  let db = "ok";
  try {
    await repo.ping();
  } catch (error) {
    db = "error";
    log.error("health db check failed", { backend: config.DB_BACKEND, error: String(error) });
  }
  const checks = { db, db_backend: config.DB_BACKEND, storage_backend: config.STORAGE_BACKEND };
  const ok = db === "ok";
  return c.json({ status: ok ? "ok" : "degraded", version: VERSION, checks }, ok ? 200 : 503);
});
