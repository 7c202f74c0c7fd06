import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sweepAccounts } from "../../src/accounts/sweep";
import { newId } from "../../src/lib/ids";
import { createUsers } from "./support/accounts";
import { backends } from "./support/backends";

const DAY = 86_400_000;

describe.each(backends)("the nightly accounts sweep on $name", ({ repo: openRepo }) => {
  it("clears expired challenges and old revoked or idle sessions (with their spent tokens), and keeps the rest", async () => {
    const repo = openRepo();
    try {
      const now = new Date();
      const at = (days: number) => new Date(now.getTime() + days * DAY).toISOString();
      const { u } = await createUsers(["u"], repo.sql);
      const session = (id: string, lastUsed: string, revoked: string | null) =>
        sql`INSERT INTO sessions (id, user_id, refresh_hash, created_at, last_used_at, revoked_at)
          VALUES (${id}, ${u}, ${newId("h")}, ${at(-60)}, ${lastUsed}, ${revoked})`;
      const ids = {
        live: newId("ses"),
        revokedLately: newId("ses"),
        revokedLongAgo: newId("ses"),
        idle: newId("ses"),
      };
      const challenge = (c: string, expires: string) =>
        sql`INSERT INTO webauthn_challenges (challenge, purpose, user_id, rp_id, origin, expires_at)
          VALUES (${c}, 'authentication', NULL, 'art.example', 'https://art.example', ${expires})`;
      const [expired, fresh] = [newId("chl"), newId("chl")];
      await repo.sql.batch([
        session(ids.live, at(-1), null),
        session(ids.revokedLately, at(-1), at(-1)),
        session(ids.revokedLongAgo, at(-20), at(-20)),
        session(ids.idle, at(-40), null),
        sql`INSERT INTO spent_refresh_tokens (hash, session_id, spent_at) VALUES (${newId("h")}, ${ids.revokedLongAgo}, ${at(-20)})`,
        challenge(expired, at(-0.01)),
        challenge(fresh, at(0.003)),
      ]);

      await sweepAccounts(repo.sql, now);

      const left = await repo.sql.all<{ id: string }>(
        sql`SELECT id FROM sessions WHERE user_id = ${u} ORDER BY id`,
      );
      expect(left.map((r) => r.id).sort()).toEqual([ids.live, ids.revokedLately].sort());
      const spent = await repo.sql.all(
        sql`SELECT 1 AS one FROM spent_refresh_tokens WHERE session_id = ${ids.revokedLongAgo}`,
      );
      expect(spent).toEqual([]);
      const challenges = await repo.sql.all<{ challenge: string }>(
        sql`SELECT challenge FROM webauthn_challenges WHERE challenge IN (${expired}, ${fresh})`,
      );
      expect(challenges.map((c) => c.challenge)).toEqual([fresh]);
    } finally {
      await repo.sql.close();
    }
  });
});
