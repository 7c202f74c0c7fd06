import { sql } from "drizzle-orm";
import type { SqlClient } from "../db/sql-client";
import type { ChallengeRecord, ChallengeStore } from "./challenge-store";

/** `ChallengeStore` on D1 or PostgreSQL: `take` is one `DELETE … RETURNING`, so only one taker gets the row. */
export function sqlChallengeStore(db: SqlClient): ChallengeStore {
  return {
    async put(r: ChallengeRecord) {
      await db.run(sql`INSERT INTO webauthn_challenges (challenge, purpose, user_id, rp_id, origin, expires_at)
        VALUES (${r.challenge}, ${r.purpose}, ${r.user_id}, ${r.rp_id}, ${r.origin}, ${r.expires_at})`);
    },
    async take(challenge) {
      const [row] =
        await db.all<ChallengeRecord>(sql`DELETE FROM webauthn_challenges WHERE challenge = ${challenge}
        RETURNING challenge, purpose, user_id, rp_id, origin, expires_at`);
      return row ?? null;
    },
  };
}
