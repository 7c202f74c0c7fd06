/**
 * IN-MEMORY STAND-INS, FOR THIS PHASE ONLY. The `sessions`, `spent_refresh_tokens`,
 * `passkeys` and `webauthn_challenges` tables are not declared yet (the schema helper
 * declares them in drizzle next), so the accounts services are tested against these
 * implementations of their storage interfaces. When the tables land, replace these with the
 * D1 and PostgreSQL stores (the SQL is written in each interface's module doc) and run the
 * same tests against both backends.
 *
 * Each method does its check and its write with no `await` in between, which is what the
 * SQL versions get from one statement (or one batch/transaction): a compare-and-set here is
 * as atomic as the `UPDATE … WHERE refresh_hash = ?` it stands in for.
 */
import type { ChallengeRecord, ChallengeStore } from "../../../src/accounts/challenge-store";
import type { DeleteOutcome, PasskeyRecord, PasskeyStore } from "../../../src/accounts/passkey-store";
import type { NewSession, SessionRecord, SessionStore } from "../../../src/accounts/session-store";

/** One macrotask-free yield, so concurrent callers really interleave before touching state. */
const tick = () => Promise.resolve();

export class MemorySessionStore implements SessionStore {
  readonly rows = new Map<string, SessionRecord & { refresh_hash: string }>();
  readonly spent = new Map<string, string>();

  async create(s: NewSession): Promise<void> {
    await tick();
    if (this.rows.has(s.id) || [...this.rows.values()].some((r) => r.refresh_hash === s.refresh_hash))
      throw new Error("UNIQUE constraint failed");
    this.rows.set(s.id, { ...s, last_used_at: s.created_at, revoked_at: null });
  }

  async rotate(
    oldHash: string,
    newHash: string,
    now: string,
    idleCutoff: string,
  ): Promise<SessionRecord | null> {
    await tick();
    const row = [...this.rows.values()].find(
      (r) => r.refresh_hash === oldHash && r.revoked_at === null && r.last_used_at > idleCutoff,
    );
    if (!row) return null;
    row.refresh_hash = newHash;
    row.last_used_at = now;
    this.spent.set(oldHash, row.id);
    return this.public(row);
  }

  async findSpent(hash: string): Promise<string | null> {
    await tick();
    return this.spent.get(hash) ?? null;
  }

  async revoke(sessionId: string, now: string, userId?: string): Promise<boolean> {
    await tick();
    const row = this.rows.get(sessionId);
    if (!row || row.revoked_at !== null || (userId !== undefined && row.user_id !== userId)) return false;
    row.revoked_at = now;
    return true;
  }

  async isActive(sessionId: string): Promise<boolean> {
    await tick();
    return this.rows.get(sessionId)?.revoked_at === null;
  }

  async listActive(userId: string, idleCutoff: string): Promise<SessionRecord[]> {
    await tick();
    return [...this.rows.values()]
      .filter((r) => r.user_id === userId && r.revoked_at === null && r.last_used_at > idleCutoff)
      .sort((a, b) =>
        a.created_at === b.created_at ? b.id.localeCompare(a.id) : b.created_at.localeCompare(a.created_at),
      )
      .map((r) => this.public(r));
  }

  private public({ refresh_hash: _, ...record }: SessionRecord & { refresh_hash: string }): SessionRecord {
    return { ...record };
  }
}

export class MemoryChallengeStore implements ChallengeStore {
  readonly rows = new Map<string, ChallengeRecord>();

  async put(record: ChallengeRecord): Promise<void> {
    await tick();
    if (this.rows.has(record.challenge)) throw new Error("UNIQUE constraint failed");
    this.rows.set(record.challenge, { ...record });
  }

  /** DELETE … RETURNING: the first taker gets the row, everyone after gets null. */
  async take(challenge: string): Promise<ChallengeRecord | null> {
    await tick();
    const row = this.rows.get(challenge) ?? null;
    this.rows.delete(challenge);
    return row;
  }
}

export class MemoryPasskeyStore implements PasskeyStore {
  readonly rows = new Map<string, PasskeyRecord>();

  async insert(passkey: PasskeyRecord): Promise<boolean> {
    await tick();
    if ([...this.rows.values()].some((p) => p.credential_id === passkey.credential_id)) return false;
    this.rows.set(passkey.id, { ...passkey });
    return true;
  }

  async findByCredentialId(credentialId: string): Promise<PasskeyRecord | null> {
    await tick();
    const row = [...this.rows.values()].find((p) => p.credential_id === credentialId);
    return row ? { ...row } : null;
  }

  async recordUse(id: string, expectedCounter: number, newCounter: number, now: string): Promise<boolean> {
    await tick();
    const row = this.rows.get(id);
    if (!row || row.counter !== expectedCounter) return false;
    row.counter = newCounter;
    row.last_used_at = now;
    return true;
  }

  async listByUser(userId: string): Promise<PasskeyRecord[]> {
    await tick();
    return [...this.rows.values()]
      .filter((p) => p.user_id === userId)
      .sort((a, b) =>
        a.created_at === b.created_at ? b.id.localeCompare(a.id) : b.created_at.localeCompare(a.created_at),
      )
      .map((p) => ({ ...p }));
  }

  async deleteUnlessLast(userId: string, id: string): Promise<DeleteOutcome> {
    await tick();
    const row = this.rows.get(id);
    if (!row || row.user_id !== userId) return "missing";
    if (![...this.rows.values()].some((p) => p.user_id === userId && p.id !== id)) return "last";
    this.rows.delete(id);
    return "deleted";
  }
}
