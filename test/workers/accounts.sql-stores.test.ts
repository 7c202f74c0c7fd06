import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { authenticationOptions, verifyAuthentication } from "../../src/accounts/passkey-authentication";
import { deletePasskey, listPasskeys } from "../../src/accounts/passkey-management";
import {
  type PasskeyDeps,
  registrationOptions,
  verifyRegistration,
} from "../../src/accounts/passkey-registration";
import { listSessions, revokeSession } from "../../src/accounts/refresh-tokens";
import { relyingParty } from "../../src/accounts/relying-party";
import { refresh, signIn, type TokenDeps } from "../../src/accounts/session-tokens";
import { sqlChallengeStore } from "../../src/accounts/sql-challenge-store";
import { sqlPasskeyStore } from "../../src/accounts/sql-passkey-store";
import { sqlSessionStore } from "../../src/accounts/sql-session-store";
import { d1Client } from "../../src/db/d1-client";
import { postgresClient } from "../../src/db/postgres-client";
import type { SqlClient } from "../../src/db/sql-client";
import { expectApiError, ORIGIN, someUser } from "./support/accounts";
import { SoftAuthenticator } from "./support/soft-authenticator";

// The SQL stores on real D1 and real PostgreSQL, on the migrated tables (migration 0003).

const backends: { name: string; open: () => SqlClient }[] = [
  { name: "d1", open: () => d1Client(env.DB) },
  { name: "postgres", open: () => postgresClient(env.HYPERDRIVE.connectionString) },
];

describe.each(backends)("accounts SQL stores on $name", ({ open }) => {
  const clients: SqlClient[] = [];
  const client = () => {
    const c = open();
    clients.push(c);
    return c;
  };
  const tokenDeps = (db = client()): TokenDeps => ({
    sessions: sqlSessionStore(db),
    jwtSecret: "test-session-secret-0123456789abcdef0123",
    accessTtlS: 900,
  });
  const passkeyDeps = (db = client()): PasskeyDeps => ({
    challenges: sqlChallengeStore(db),
    passkeys: sqlPasskeyStore(db),
    rp: relyingParty({ PUBLIC_BASE_URL: ORIGIN, WEBAUTHN_RP_ID: undefined }),
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  it("rotates refresh tokens and revokes the session when a spent one comes back", async () => {
    const deps = tokenDeps();
    const user = await someUser("Ada", client());
    const first = await signIn(deps, user.id, "Phone");
    const second = await refresh(deps, first.refresh_token);
    expect(second.session_id).toBe(first.session_id);

    await expectApiError(refresh(deps, first.refresh_token), 401, "unauthorized");
    await expectApiError(refresh(deps, second.refresh_token), 401, "unauthorized");
    expect(await listSessions(deps.sessions, user.id, null)).toEqual([]);
  });

  it("lets exactly one of concurrent refreshes on separate connections win", async () => {
    const user = await someUser("Ada", client());
    const pair = await signIn(tokenDeps(), user.id, null);
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => refresh(tokenDeps(), pair.refresh_token)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await tokenDeps().sessions.isActive(pair.session_id)).toBe(false);
  });

  it("logs out one session and lists the others", async () => {
    const deps = tokenDeps();
    const user = await someUser("Ada", client());
    const a = await signIn(deps, user.id, "A", new Date(Date.now() - 1000));
    const b = await signIn(deps, user.id, "B");
    await revokeSession(deps.sessions, user.id, a.session_id);
    await expectApiError(
      revokeSession(deps.sessions, (await someUser("Ada", client())).id, b.session_id),
      404,
      "not_found",
    );
    expect(await listSessions(deps.sessions, user.id, b.session_id)).toEqual([
      expect.objectContaining({ id: b.session_id, user_agent: "B", current: true }),
    ]);
    await expectApiError(refresh(deps, a.refresh_token), 401, "unauthorized");
  });

  it("registers a passkey, logs in, refuses a replay and a backwards counter, keeps the last passkey", async () => {
    const deps = passkeyDeps();
    const user = await someUser("Ada", client());
    const authenticator = await SoftAuthenticator.create();
    const reg = await authenticator.register(await registrationOptions(deps, user), { origin: ORIGIN });
    const passkey = await verifyRegistration(deps, user, reg, "Phone");
    await expectApiError(verifyRegistration(deps, user, reg, "Phone"), 401, "unauthorized", /already used/);

    const login = await authenticator.login(await authenticationOptions(deps), {
      origin: ORIGIN,
      counter: 4,
    });
    expect((await verifyAuthentication(deps, login)).user_id).toBe(user.id);
    await expectApiError(verifyAuthentication(deps, login), 401, "unauthorized", /already used/);
    const cloned = await authenticator.login(await authenticationOptions(deps), {
      origin: ORIGIN,
      counter: 2,
    });
    await expectApiError(verifyAuthentication(deps, cloned), 401, "unauthorized", /counter/i);

    expect(await listPasskeys(deps.passkeys, user.id)).toEqual([
      expect.objectContaining({ id: passkey.id, name: "Phone", last_used_at: expect.any(String) }),
    ]);
    await expectApiError(deletePasskey(deps.passkeys, user.id, passkey.id), 409, "conflict");
    await expectApiError(
      deletePasskey(deps.passkeys, (await someUser("Ada", client())).id, passkey.id),
      404,
      "not_found",
    );
  });

  it("hands a challenge to exactly one of concurrent takers", async () => {
    const deps = passkeyDeps();
    const options = await authenticationOptions(deps);
    const takes = await Promise.all(
      Array.from({ length: 4 }, () => sqlChallengeStore(client()).take(options.challenge)),
    );
    expect(takes.filter((t) => t !== null)).toHaveLength(1);
  });
});
