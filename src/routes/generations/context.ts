import type { Context } from "hono";
import { generationDeps } from "../../generation/deps";
import { JobService } from "../../generation/job-service";
import type { AppEnv } from "../../types";

/** The generation state machine on this request's services; live updates outlive the response. */
export function jobServiceOf(c: Context<AppEnv>): JobService {
  const { config, repo } = c.var.services;
  return new JobService(generationDeps(c.env, config, repo, (promise) => c.executionCtx.waitUntil(promise)));
}
