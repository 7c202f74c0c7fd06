import { sql } from "drizzle-orm";
import type { Config } from "../config";
import { d1Client } from "./d1-client";
import { postgresClient } from "./postgres-client";
import { CharactersRepo } from "./repos/characters";
import { ChatsRepo } from "./repos/chats";
import { CreditsRepo } from "./repos/credits";
import { JobsRepo } from "./repos/jobs";
import { UsersRepo } from "./repos/users";
import type { SqlClient } from "./sql-client";

/** Every query the service makes, grouped by resource, over one database connection. */
export interface Repository {
  readonly sql: SqlClient;
  readonly users: UsersRepo;
  readonly characters: CharactersRepo;
  readonly chats: ChatsRepo;
  readonly jobs: JobsRepo;
  readonly credits: CreditsRepo;
  /** Round-trips a trivial query; throws when the database is unreachable. */
  ping(): Promise<void>;
}

export function repositoryOn(client: SqlClient): Repository {
  return {
    sql: client,
    users: new UsersRepo(client),
    characters: new CharactersRepo(client),
    chats: new ChatsRepo(client),
    jobs: new JobsRepo(client),
    credits: new CreditsRepo(client),
    async ping() {
      await client.all(sql`SELECT 1 AS ok`);
    },
  };
}

/** The repository `DB_BACKEND` selects: D1 (`DB`) or PostgreSQL through `HYPERDRIVE`. */
export function openRepository(env: Env, config: Pick<Config, "DB_BACKEND">): Repository {
  const client =
    config.DB_BACKEND === "postgres" ? postgresClient(env.HYPERDRIVE.connectionString) : d1Client(env.DB);
  return repositoryOn(client);
}
