import { type SQL, sql } from "drizzle-orm";
import type { Allowances } from "../../abuse/credits";
import type { SqlClient } from "../sql-client";

/** One user's ledger for one day. */
export interface CreditUsage {
  limit: number;
  used: number;
}

/**
 * The daily credit ledger (`credit_usage`, one row per user and UTC day). Every charge is one
 * guarded upsert, so concurrent requests can never spend past the allowance on D1 (statements
 * run one at a time) or PostgreSQL (the conflicting row is locked and the guard re-checked).
 */
export class CreditsRepo {
  constructor(private readonly db: SqlClient) {}

  /** The user's allowance by `users.kind`, inside the statement (no extra round trip). */
  #limit(userId: string, allowances: Allowances): SQL {
    return sql`(CASE WHEN (SELECT kind FROM users WHERE id = ${userId}) = 'account'
      THEN CAST(${allowances.account} AS INTEGER) ELSE CAST(${allowances.guest} AS INTEGER) END)`;
  }

  /**
   * Charges `cost` credits to `day` when the allowance still covers them; returns the day's
   * new total, or null (nothing written) when it does not.
   */
  async charge(userId: string, day: string, cost: number, allowances: Allowances): Promise<number | null> {
    const limit = this.#limit(userId, allowances);
    const rows = await this.db.all<{ used: number | string }>(
      sql`INSERT INTO credit_usage (user_id, day, used)
          SELECT ${userId}, ${day}, CAST(${cost} AS INTEGER) WHERE CAST(${cost} AS INTEGER) <= ${limit}
          ON CONFLICT (user_id, day) DO UPDATE SET used = credit_usage.used + excluded.used
          WHERE credit_usage.used + excluded.used <= ${limit}
          RETURNING used`,
    );
    return rows[0] ? Number(rows[0].used) : null;
  }

  /**
   * Gives back a charge whose request was then refused, leaving the ledger as before it: a
   * row the charge created (now 0) goes again.
   */
  async uncharge(userId: string, day: string, cost: number): Promise<void> {
    await this.db.batch([
      sql`UPDATE credit_usage SET used = used - CAST(${cost} AS INTEGER)
          WHERE user_id = ${userId} AND day = ${day} AND used >= CAST(${cost} AS INTEGER)`,
      sql`DELETE FROM credit_usage WHERE user_id = ${userId} AND day = ${day} AND used = 0`,
    ]);
  }

  /**
   * Refunds what a job was charged, to the day it was charged against, and zeroes the job's
   * `credits` in the same batch: a second call refunds nothing. The caller is the one winner
   * of the job's terminal transition (JobService), so a refund happens once.
   */
  async refundJob(jobId: string): Promise<void> {
    const charged = sql`(SELECT credits FROM image_generation_history WHERE id = ${jobId})`;
    await this.db.batch([
      sql`UPDATE credit_usage
          SET used = CASE WHEN used >= ${charged} THEN used - ${charged} ELSE 0 END
          WHERE user_id = (SELECT user_id FROM image_generation_history WHERE id = ${jobId})
            AND day = (SELECT credit_day FROM image_generation_history WHERE id = ${jobId})
            AND ${charged} > 0`,
      sql`UPDATE image_generation_history SET credits = 0 WHERE id = ${jobId} AND credits > 0`,
    ]);
  }

  /** The user's limit and what it has spent on `day`. */
  async usage(userId: string, day: string, allowances: Allowances): Promise<CreditUsage> {
    const rows = await this.db.all<{ limit: number | string; used: number | string | null }>(
      sql`SELECT ${this.#limit(userId, allowances)} AS "limit",
          (SELECT used FROM credit_usage WHERE user_id = ${userId} AND day = ${day}) AS used`,
    );
    return { limit: Number(rows[0]?.limit ?? allowances.guest), used: Number(rows[0]?.used ?? 0) };
  }

  /** Credits spent per day, newest first, from `since` (a day) on. */
  async spendByDay(since: string): Promise<{ day: string; credits: number; users: number }[]> {
    const rows = await this.db.all<{ day: string; credits: number | string; users: number | string }>(
      sql`SELECT day, CAST(SUM(used) AS INTEGER) AS credits, CAST(COUNT(*) AS INTEGER) AS users
          FROM credit_usage WHERE day >= ${since} GROUP BY day ORDER BY day DESC`,
    );
    return rows.map((row) => ({ day: row.day, credits: Number(row.credits), users: Number(row.users) }));
  }

  /** The users who spent most on `day`. */
  async topSpenders(day: string, limit: number): Promise<{ user_id: string; used: number }[]> {
    const rows = await this.db.all<{ user_id: string; used: number | string }>(
      sql`SELECT user_id, used FROM credit_usage WHERE day = ${day} AND used > 0
          ORDER BY used DESC, user_id LIMIT ${limit}`,
    );
    return rows.map((row) => ({ user_id: row.user_id, used: Number(row.used) }));
  }
}
