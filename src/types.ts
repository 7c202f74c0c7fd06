import type { Config } from "./config";
import type { Repository } from "./db/repository";
import type { JobService } from "./generation/job-service";
import type { UserEventPublisher } from "./realtime/publisher";
import type { ImageStore } from "./storage/image-store";

export interface AuthUser {
  id: string;
  /** The session the access token was issued for; null for a legacy guest token (no `sid`). */
  sid?: string | null;
}

/**
 * Per-request services, built on first use by `middleware/services.ts` and read as
 * `c.var.services`.
 */
export interface Services {
  readonly config: Config;
  /** On a connection of its own, closed after the response. */
  readonly repo: Repository;
  /** The generation job state machine: every change of a job's status goes through it. */
  readonly jobs: JobService;
  readonly images: ImageStore;
  /** Live events to a user's sockets. */
  readonly publisher: UserEventPublisher;
}

export interface AppVariables {
  requestId: string;
  services: Services;
  user: AuthUser | undefined;
  /** The limiter's decision for the request log; `by` says whether a leased token or the shard made it. */
  rateLimit: { zone: string; allowed: boolean; remaining: number; by: "lease" | "shard" } | undefined;
}

/** The one `Env` generic every handler and middleware shares (Hono's `Bindings` + `Variables`). */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
