import type { Config } from "./config";
import type { Repository } from "./db/repository";

export interface AuthUser {
  id: string;
}

/** Per-request services, built once by `middleware/services.ts` and read as `c.var.services`. */
export interface Services {
  config: Config;
  repo: Repository;
}

export interface AppVariables {
  requestId: string;
  services: Services;
  user: AuthUser | undefined;
  /** Set by the rate limiter for the request log line. */
  rateLimit: { zone: string; allowed: boolean; remaining: number } | undefined;
}

/** The one `Env` generic every handler and middleware shares (Hono's `Bindings` + `Variables`). */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
