import { sql } from "drizzle-orm";
import type { Config } from "../config";
import { openRepository } from "../db/repository";

/**
 * PostgreSQL only: creates next month's `chat_history` partition ahead of time (the function
 * comes with migrations/postgres/0001_init.sql and is idempotent), so inserts never fall into
 * the default partition. D1 has no partitions: nothing to do.
 */
export async function ensureNextChatPartition(
  env: Env,
  config: Pick<Config, "DB_BACKEND">,
): Promise<string | null> {
  if (config.DB_BACKEND !== "postgres") return null;
  const repo = openRepository(env, config);
  try {
    const rows = await repo.sql.all<{ name: string }>(
      sql`SELECT ensure_chat_history_partition((current_date + interval '1 month')::date) AS name`,
    );
    return rows[0]?.name ?? null;
  } finally {
    await repo.sql.close();
  }
}
