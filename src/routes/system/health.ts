import { z } from "zod";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { log } from "../../ops/log";
import { VERSION } from "../../version";

const Health = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  checks: z.record(z.string(), z.string()),
});

/** Probes poll it and it costs nothing to answer: never rate limited. */
const route = defineRoute({
  method: "get",
  path: "/health",
  summary: "Service health with a database check",
  tags: ["system"],
  zone: null,
  responses: {
    200: jsonResponse(Health, "Healthy"),
    503: jsonResponse(Health, "A dependency is down"),
  },
});

/**
 * The database check's last answer per isolate (keyed by the bindings object, which is one per
 * isolate in production, so other bindings never share an answer): probes and floods of
 * anonymous calls cost at most one database round trip per second per isolate.
 */
const DB_CHECK_TTL_MS = 1_000;
const lastDbCheck = new WeakMap<object, { atMs: number; db: "ok" | "error" }>();

export const health = routes().openapi(route, async (c) => {
  const { config } = c.var.services;
  const nowMs = Date.now();
  const cached = lastDbCheck.get(c.env);
  let db: "ok" | "error" = "ok";
  if (cached && nowMs - cached.atMs < DB_CHECK_TTL_MS) {
    db = cached.db;
  } else {
    try {
      await c.var.services.repo.ping();
    } catch (error) {
      db = "error";
      log.error("health db check failed", { backend: config.DB_BACKEND, error: String(error) });
    }
    lastDbCheck.set(c.env, { atMs: nowMs, db });
  }
  const checks = { db, db_backend: config.DB_BACKEND, storage_backend: config.STORAGE_BACKEND };
  return db === "ok"
    ? c.json({ status: "ok" as const, version: VERSION, checks }, 200)
    : c.json({ status: "degraded" as const, version: VERSION, checks }, 503);
});
