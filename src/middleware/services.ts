import { createMiddleware } from "hono/factory";
import { loadConfig } from "../config";
import { openRepository } from "../db/repository";
import type { AppEnv } from "../types";

/**
 * Builds the request's services from `c.env`: validated config and a repository on a
 * connection of its own (Hyperdrive wants a client per request), closed after the response.
 */
export const services = createMiddleware<AppEnv>(async (c, next) => {
  const config = loadConfig(c.env);
  const repo = openRepository(c.env, config);
  c.set("services", { config, repo });
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(repo.sql.close());
  }
});
