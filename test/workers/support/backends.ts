import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { createApp } from "../../../src/app";
import { d1Client } from "../../../src/db/d1-client";
import { postgresClient } from "../../../src/db/postgres-client";
import { type Repository, repositoryOn } from "../../../src/db/repository";

export type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

export interface Backend {
  name: "d1" | "postgres";
  /** Calls `/api/v1${path}` on the app running against this backend. */
  fetch: Fetch;
  /** A repository on this backend (close it after use). */
  repo(): Repository;
}

const app = createApp();
const postgresEnv = { ...env, DB_BACKEND: "postgres" } as Env;

/**
 * The HTTP API on each database backend: D1 through the real Worker (`SELF`), PostgreSQL
 * through the same Hono app with `DB_BACKEND=postgres` over the HYPERDRIVE binding.
 */
export const backends: Backend[] = [
  {
    name: "d1",
    fetch: (path, init) => SELF.fetch(`http://127.0.0.1:8787/api/v1${path}`, init),
    repo: () => repositoryOn(d1Client(env.DB)),
  },
  {
    name: "postgres",
    fetch: async (path, init) => {
      const ctx = createExecutionContext();
      const res = await app.request(`http://127.0.0.1:8787/api/v1${path}`, init, postgresEnv, ctx);
      const body = await res.arrayBuffer();
      await waitOnExecutionContext(ctx);
      return new Response(res.status === 204 ? null : body, res);
    },
    repo: () => repositoryOn(postgresClient(env.HYPERDRIVE.connectionString)),
  },
];
