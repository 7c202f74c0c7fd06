import type { Context } from "hono";
import { type Config, loadConfig } from "../config";
import { openRepository, type Repository } from "../db/repository";
import { generationDeps } from "../generation/deps";
import { JobService } from "../generation/job-service";
import { sessionPublisher, type UserEventPublisher } from "../realtime/publisher";
import type { ImageStore } from "../storage/image-store";
import { openImageStore } from "../storage/index";
import type { AppEnv, Services } from "../types";

/**
 * One request's services, each built on first use and kept for the rest of the request.
 * One object per request with its getters on the prototype: a route that needs none (a warm
 * popular list) allocates nothing more (the closures per service and per getter it replaces
 * were a dozen objects per request, every one of them kept across the handler's awaits).
 */
export class RequestServices implements Services {
  #config: Config | undefined;
  #repo: Repository | undefined;
  #jobs: JobService | undefined;
  #images: ImageStore | undefined;
  #publisher: UserEventPublisher | undefined;

  constructor(private readonly c: Context<AppEnv>) {}

  get config(): Config {
    this.#config ??= loadConfig(this.c.env);
    return this.#config;
  }

  get repo(): Repository {
    this.#repo ??= openRepository(this.c.env, this.config);
    return this.#repo;
  }

  get jobs(): JobService {
    this.#jobs ??= new JobService(
      generationDeps(this.c.env, this.config, this.repo, (promise) => this.waitUntil(promise)),
    );
    return this.#jobs;
  }

  get images(): ImageStore {
    this.#images ??= openImageStore(this.c.env, this.config);
    return this.#images;
  }

  get publisher(): UserEventPublisher {
    this.#publisher ??= sessionPublisher(this.c.env);
    return this.#publisher;
  }

  /** The repository's connection, if one was opened. */
  get opened(): Repository | undefined {
    return this.#repo;
  }

  waitUntil(promise: Promise<unknown>): void {
    this.c.executionCtx.waitUntil(promise);
  }
}

/**
 * Builds the request's services from `c.env`, each on first use, so a route that needs
 * none (health's config, the OpenAPI document, a warm popular list) pays for none. The
 * repository gets a connection of its own (Hyperdrive wants a client per request), closed
 * after the response (`closeServices`) only if it was opened.
 *
 * @example
 * const { repo, jobs } = c.var.services;
 */
export function openServices(c: Context<AppEnv>): RequestServices {
  const built = new RequestServices(c);
  c.set("services", built);
  return built;
}

/** After the response: closes the repository's connection if the request opened one. */
export function closeServices(built: RequestServices): void {
  const opened = built.opened;
  if (opened) built.waitUntil(opened.sql.close());
}
