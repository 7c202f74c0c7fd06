import { DurableObject } from "cloudflare:workers";
import {
  parseSocketReport,
  type SocketReport,
  type SocketTotals,
  STALE_REPORT_LIMIT,
} from "../src/ops/sockets/protocol";

/**
 * One global instance (`idFromName("global")`) holding, per user, how many sockets that
 * user's `UserSession` last said were open. Each session reports its absolute count on every
 * connect and close (one RPC each, never per message), so a lost report heals itself on that
 * user's next connect or close, and the nightly reconciliation asks long-silent sessions
 * directly (`src/ops/sockets/reconcile.ts`). Counts live in SQLite: a restart loses nothing.
 */
export class SessionStats extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS sockets (
         user_id TEXT PRIMARY KEY,
         open INTEGER NOT NULL,
         updated_at INTEGER NOT NULL
       )`,
    );
  }

  /** A session's count of open sockets right now; a user at 0 is forgotten. */
  report(input: SocketReport): void {
    const { userId, open, at } = parseSocketReport(input);
    const sql = this.ctx.storage.sql;
    if (open === 0) {
      sql.exec("DELETE FROM sockets WHERE user_id = ? AND updated_at <= ?", userId, at);
      return;
    }
    // Reports can overtake each other (two tabs closing at once): the newer one wins.
    sql.exec(
      `INSERT INTO sockets (user_id, open, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET open = excluded.open, updated_at = excluded.updated_at
       WHERE excluded.updated_at >= sockets.updated_at`,
      userId,
      open,
      at,
    );
  }

  /** Open sockets across every user, and how many users hold them. */
  totals(): SocketTotals {
    const row = this.ctx.storage.sql
      .exec<{ open: number; users: number }>(
        "SELECT COALESCE(SUM(open), 0) AS open, COUNT(*) AS users FROM sockets",
      )
      .one();
    return { open: Number(row.open), users: Number(row.users) };
  }

  /** One user's last reported count (0 when none). */
  openFor(userId: string): number {
    const { userId: id } = parseSocketReport({ userId, open: 0, at: 0 });
    const rows = this.ctx.storage.sql
      .exec<{ open: number }>("SELECT open FROM sockets WHERE user_id = ?", id)
      .toArray();
    return Number(rows[0]?.open ?? 0);
  }

  /** Users whose last report is older than `before` (ms), oldest first: candidates to re-check. */
  staleUsers(before: number): string[] {
    if (!Number.isFinite(before)) throw new TypeError("staleUsers: before must be a number");
    return this.ctx.storage.sql
      .exec<{ user_id: string }>(
        "SELECT user_id FROM sockets WHERE updated_at < ? ORDER BY updated_at LIMIT ?",
        before,
        STALE_REPORT_LIMIT,
      )
      .toArray()
      .map((row) => row.user_id);
  }
}
