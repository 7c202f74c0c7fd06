import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import type { ChallengeRecord, ChallengeStore } from "../../../src/accounts/challenge-store";
import type { PasskeyDeps } from "../../../src/accounts/passkey-registration";
import type { PasskeyRecord, PasskeyStore } from "../../../src/accounts/passkey-store";
import { relyingParty } from "../../../src/accounts/relying-party";
import { sqlChallengeStore } from "../../../src/accounts/sql-challenge-store";
import { sqlPasskeyStore } from "../../../src/accounts/sql-passkey-store";
import { d1Client } from "../../../src/db/d1-client";
import type { SqlClient } from "../../../src/db/sql-client";
import { ApiError } from "../../../src/errors/api-error";
import { newId } from "../../../src/lib/ids";

/** The deployment the passkey tests play: a web client at https://art.example. */
export const ORIGIN = "https://art.example";
export const RP_ID = "art.example";

const d1 = () => d1Client(env.DB);

/** Rows a fixture wrote (and that are still there), read back from the real table. */
export interface WrittenRows<T> {
  size(): Promise<number>;
  get(key: string): Promise<T | undefined>;
  has(key: string): Promise<boolean>;
}

export interface PasskeyFixture extends PasskeyDeps {
  challenges: ChallengeStore & { rows: WrittenRows<ChallengeRecord> };
  passkeys: PasskeyStore & { rows: WrittenRows<PasskeyRecord> };
}

function written<T>(keys: Set<string>, read: (key: string) => Promise<T | undefined>): WrittenRows<T> {
  return {
    async size() {
      let n = 0;
      for (const key of keys) if ((await read(key)) !== undefined) n += 1;
      return n;
    },
    get: read,
    async has(key) {
      return (await read(key)) !== undefined;
    },
  };
}

/**
 * The passkey services on the real D1 tables. The stores are wrapped to remember what this
 * fixture wrote, so a test counts its own rows whatever other tests left in the tables.
 */
export function passkeyFixture(db: SqlClient = d1()): PasskeyFixture {
  const challenges = sqlChallengeStore(db);
  const passkeys = sqlPasskeyStore(db);
  const challengeKeys = new Set<string>();
  const passkeyIds = new Set<string>();
  return {
    rp: relyingParty({ PUBLIC_BASE_URL: `${ORIGIN}/`, WEBAUTHN_RP_ID: undefined }),
    challenges: {
      async put(record) {
        challengeKeys.add(record.challenge);
        await challenges.put(record);
      },
      take: (challenge) => challenges.take(challenge),
      rows: written(challengeKeys, async (key) => {
        const [row] = await db.all<ChallengeRecord>(
          sql`SELECT challenge, purpose, user_id, rp_id, origin, expires_at FROM webauthn_challenges WHERE challenge = ${key}`,
        );
        return row;
      }),
    },
    passkeys: {
      ...passkeys,
      async insert(record) {
        const inserted = await passkeys.insert(record);
        if (inserted) passkeyIds.add(record.id);
        return inserted;
      },
      rows: written(passkeyIds, async (id) => {
        const [row] = await db.all<{ user_id: string; credential_id: string }>(
          sql`SELECT user_id, credential_id FROM passkeys WHERE id = ${id}`,
        );
        if (!row) return undefined;
        return (await passkeys.findByCredentialId(row.credential_id)) ?? undefined;
      }),
    },
  };
}

/** Real users (the accounts tables point at `users`), named by the keys given. */
export async function createUsers<K extends string>(
  names: K[],
  db: SqlClient = d1(),
): Promise<Record<K, string>> {
  const ids = {} as Record<K, string>;
  for (const name of names) {
    const id = newId("usr");
    await db.run(
      sql`INSERT INTO users (id, display_name, created_at) VALUES (${id}, ${name}, ${new Date().toISOString()})`,
    );
    ids[name] = id;
  }
  return ids;
}

/** A real user with a display name, for the passkey services. */
export async function someUser(
  name = "Ada",
  db: SqlClient = d1(),
): Promise<{ id: string; display_name: string }> {
  const { user } = await createUsers(["user"], db);
  await db.run(sql`UPDATE users SET display_name = ${name} WHERE id = ${user}`);
  return { id: user, display_name: name };
}

export interface SessionRow {
  id: string;
  user_id: string;
  refresh_hash: string;
  user_agent: string | null;
  created_at: string;
  last_used_at: string;
  revoked_at: string | null;
}

/** A session as stored on D1, refresh hash included (which the store never hands out). */
export async function sessionRow(id: string): Promise<SessionRow | undefined> {
  const [row] = await d1().all<SessionRow>(sql`SELECT * FROM sessions WHERE id = ${id}`);
  return row;
}

export async function sessionRowsOf(userId: string): Promise<SessionRow[]> {
  return d1().all<SessionRow>(sql`SELECT * FROM sessions WHERE user_id = ${userId}`);
}

/** Awaits a rejection and checks it is the ApiError a route would render (status, code, detail). */
export async function expectApiError(
  promise: Promise<unknown>,
  status: number,
  code: string,
  detail?: RegExp,
): Promise<ApiError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a ${status} ${code}, but it succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  const api = error as ApiError;
  expect({ status: api.status, code: api.code }).toEqual({ status, code });
  if (detail) expect(api.detail).toMatch(detail);
  return api;
}
