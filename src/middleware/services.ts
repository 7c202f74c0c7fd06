import { createMiddleware } from "hono/factory";
import { type Config, loadConfig } from "../config";
import { openRepository, type Repository } from "../db/repository";
import { generationDeps } from "../generation/deps";
import { JobService } from "../generation/job-service";
import { sessionPublisher, type UserEventPublisher } from "../realtime/publisher";
import type { ImageStore } from "../storage/image-store";
import { openImageStore } from "../storage/index";
import type { AppEnv, Services } from "../types";

/** A value built on first use and kept for the rest of the request. */
function lazy<T>(build: () => T): () => T {
  let value: { built: T } | undefined;
  return () => {
    value ??= { built: build() };
    return value.built;
  };
}

/**
 * Builds the request's services from `c.env`, each on first use, so a route that needs
 * none (health's config, the OpenAPI document, a warm popular list) pays for none. The
 * repository gets a connection of its own (Hyperdrive wants a client per request), closed
 * after the response only if it was opened.
 *
 * @example
 * const { repo, jobs } = c.var.services;
 */
export const services = createMiddleware<AppEnv>(async (c, next) => {
  const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
  const config = lazy<Config>(() => loadConfig(c.env));
  let opened: Repository | undefined;
  const repo = lazy<Repository>(() => {
    opened = openRepository(c.env, config());
    return opened;
  });
  const jobs = lazy(() => new JobService(generationDeps(c.env, config(), repo(), waitUntil)));
  const images = lazy<ImageStore>(() => openImageStore(c.env, config()));
  const publisher = lazy<UserEventPublisher>(() => sessionPublisher(c.env));
  const built: Services = {
    get config() {
      return config();
    },
    get repo() {
      return repo();
    },
    get jobs() {
      return jobs();
    },
    get images() {
      return images();
    },
    get publisher() {
      return publisher();
    },
  };
  c.set("services", built);
  try {
    await next();
  } finally {
    if (opened) waitUntil(opened.sql.close());
  }
});
