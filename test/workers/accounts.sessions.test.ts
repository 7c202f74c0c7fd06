import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { signSessionAccessToken, verifySessionAccessToken } from "../../src/accounts/access-tokens";
import { hashOpaqueToken } from "../../src/accounts/opaque-token";
import { listSessions, revokeSession, SESSION_IDLE_S } from "../../src/accounts/refresh-tokens";
import { refresh, signIn, type TokenDeps } from "../../src/accounts/session-tokens";
import { sqlSessionStore } from "../../src/accounts/sql-session-store";
import { signAccessToken } from "../../src/auth/jwt";
import { loadConfig } from "../../src/config";
import { d1Client } from "../../src/db/d1-client";
import { createUsers, expectApiError, sessionRow, sessionRowsOf } from "./support/accounts";

// Storage: the real `sessions` tables on D1 (accounts.sql-stores.test.ts runs the stores on
// PostgreSQL too). Users are made fresh for every test, so no test sees another's sessions.

let usr: Record<"a" | "b" | "alice" | "mallory", string>;
beforeEach(async () => {
  usr = await createUsers(["a", "b", "alice", "mallory"]);
});

const SECRET = "test-session-secret-0123456789abcdef0123";
const nowS = (d: Date) => Math.floor(d.getTime() / 1000);

function fixture(): TokenDeps {
  return { sessions: sqlSessionStore(d1Client(env.DB)), jwtSecret: SECRET, accessTtlS: 900 };
}

describe("sign-in", () => {
  it("issues a 15-minute access token naming the session, and a refresh token stored only as its hash", async () => {
    const deps = fixture();
    const now = new Date("2026-12-02T04:00:00Z");
    const pair = await signIn(deps, usr.a, "Mozilla/5.0 (X11)", now);

    expect(pair.expires_at).toBe("2026-12-02T04:15:00.000Z");
    expect(pair.refresh_token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    expect(await verifySessionAccessToken(pair.token, SECRET, nowS(now))).toEqual({
      sub: usr.a,
      sid: pair.session_id,
      iat: nowS(now),
      exp: nowS(now) + 900,
    });
    const row = await sessionRow(pair.session_id);
    expect(row).toMatchObject({ user_id: usr.a, user_agent: "Mozilla/5.0 (X11)", revoked_at: null });
    expect(row?.refresh_hash).toBe(await hashOpaqueToken(pair.refresh_token));
    expect(JSON.stringify(await sessionRowsOf(usr.a))).not.toContain(pair.refresh_token.slice(3));
  });

  it("takes ACCESS_TOKEN_TTL_S from the configuration, 900 s by default", () => {
    expect(loadConfig(env).ACCESS_TOKEN_TTL_S).toBe(900);
  });
});

describe("refresh", () => {
  it("rotates: a new pair for the same session, and the old refresh token is spent", async () => {
    const deps = fixture();
    const t0 = new Date("2026-12-02T04:00:00Z");
    const first = await signIn(deps, usr.a, null, t0);
    const t1 = new Date("2026-12-02T04:14:00Z");
    const second = await refresh(deps, first.refresh_token, t1);

    expect(second.session_id).toBe(first.session_id);
    expect(second.user_id).toBe(usr.a);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.expires_at).toBe("2026-12-02T04:29:00.000Z");
    expect((await verifySessionAccessToken(second.token, SECRET, nowS(t1)))?.sid).toBe(first.session_id);
    expect((await sessionRow(first.session_id))?.last_used_at).toBe(t1.toISOString());

    const third = await refresh(deps, second.refresh_token, new Date("2026-12-02T04:28:00Z"));
    expect(third.session_id).toBe(first.session_id);
  });

  it("revokes the whole session when a spent refresh token is presented again", async () => {
    const deps = fixture();
    const stolen = await signIn(deps, usr.a, null);
    const owner = await refresh(deps, stolen.refresh_token);

    await expectApiError(refresh(deps, stolen.refresh_token), 401, "unauthorized");
    expect((await sessionRow(stolen.session_id))?.revoked_at).not.toBeNull();
    // The family is dead: the legitimate successor stops working too.
    await expectApiError(refresh(deps, owner.refresh_token), 401, "unauthorized");
    expect(await listSessions(deps.sessions, usr.a, null)).toEqual([]);
  });

  it("detects reuse of a token spent several rotations ago", async () => {
    const deps = fixture();
    const first = await signIn(deps, usr.a, null);
    let latest = await refresh(deps, first.refresh_token);
    latest = await refresh(deps, latest.refresh_token);
    latest = await refresh(deps, latest.refresh_token);

    await expectApiError(refresh(deps, first.refresh_token), 401, "unauthorized");
    await expectApiError(refresh(deps, latest.refresh_token), 401, "unauthorized");
  });

  it("lets exactly one of several concurrent refreshes with the same token win", async () => {
    const deps = fixture();
    const pair = await signIn(deps, usr.a, null);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => refresh(deps, pair.refresh_token)),
    );

    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(4);
    // The losers presented a spent token: by the contract that is reuse, and the session ends.
    expect((await sessionRow(pair.session_id))?.revoked_at).not.toBeNull();
  });

  it("refuses an unknown refresh token without touching any session", async () => {
    const deps = fixture();
    const pair = await signIn(deps, usr.a, null);
    await expectApiError(refresh(deps, "rt_not-a-token"), 401, "unauthorized", /refresh token/);
    expect((await sessionRow(pair.session_id))?.revoked_at).toBeNull();
    expect((await refresh(deps, pair.refresh_token)).session_id).toBe(pair.session_id);
  });

  it("refuses the refresh token of a session idle longer than the session lifetime", async () => {
    const deps = fixture();
    const t0 = new Date("2026-11-01T00:00:00Z");
    const pair = await signIn(deps, usr.a, null, t0);
    const late = new Date(t0.getTime() + SESSION_IDLE_S * 1000);
    await expectApiError(refresh(deps, pair.refresh_token, late), 401, "unauthorized");
    expect(await listSessions(deps.sessions, usr.a, null, late)).toEqual([]);
  });
});

describe("logout and the list of sessions", () => {
  it("lists the user's live sessions newest first, marking the caller's", async () => {
    const deps = fixture();
    const phone = await signIn(deps, usr.a, "Phone", new Date("2026-12-01T10:00:00Z"));
    const laptop = await signIn(deps, usr.a, "Laptop", new Date("2026-12-02T10:00:00Z"));
    await signIn(deps, usr.b, "Bob's", new Date("2026-12-02T10:00:00Z"));

    const now = new Date("2026-12-02T11:00:00Z");
    expect(await listSessions(deps.sessions, usr.a, phone.session_id, now)).toEqual([
      {
        id: laptop.session_id,
        created_at: "2026-12-02T10:00:00.000Z",
        last_used_at: "2026-12-02T10:00:00.000Z",
        user_agent: "Laptop",
        current: false,
      },
      {
        id: phone.session_id,
        created_at: "2026-12-01T10:00:00.000Z",
        last_used_at: "2026-12-01T10:00:00.000Z",
        user_agent: "Phone",
        current: true,
      },
    ]);
  });

  it("logout stops the session's refresh token at once and drops it from the list", async () => {
    const deps = fixture();
    const pair = await signIn(deps, usr.a, null);
    const other = await signIn(deps, usr.a, null);
    await revokeSession(deps.sessions, usr.a, pair.session_id);

    await expectApiError(refresh(deps, pair.refresh_token), 401, "unauthorized");
    expect(await deps.sessions.isActive(pair.session_id)).toBe(false);
    expect((await listSessions(deps.sessions, usr.a, null)).map((s) => s.id)).toEqual([other.session_id]);
    expect((await refresh(deps, other.refresh_token)).session_id).toBe(other.session_id);
  });

  it("answers 404 for another user's session, or one already ended, and revokes nothing", async () => {
    const deps = fixture();
    const alice = await signIn(deps, usr.alice, null);
    await expectApiError(revokeSession(deps.sessions, usr.mallory, alice.session_id), 404, "not_found");
    expect(await deps.sessions.isActive(alice.session_id)).toBe(true);

    await revokeSession(deps.sessions, usr.alice, alice.session_id);
    await expectApiError(revokeSession(deps.sessions, usr.alice, alice.session_id), 404, "not_found");
  });

  it("keeps at most 256 characters of a user agent", async () => {
    const deps = fixture();
    const pair = await signIn(deps, usr.a, "x".repeat(1000));
    expect((await sessionRow(pair.session_id))?.user_agent).toHaveLength(256);
  });
});

describe("access tokens", () => {
  it("keeps accepting a guest token issued before sessions (no sid) until it expires", async () => {
    const iat = nowS(new Date("2026-11-20T00:00:00Z"));
    const legacy = await signAccessToken({ sub: "usr_guest", iat, exp: iat + 30 * 86400 }, SECRET);
    expect(await verifySessionAccessToken(legacy, SECRET, iat + 86400)).toEqual({
      sub: "usr_guest",
      sid: null,
      iat,
      exp: iat + 30 * 86400,
    });
    expect(await verifySessionAccessToken(legacy, SECRET, iat + 30 * 86400)).toBeNull();
  });

  it("refuses an expired, forged or malformed session token", async () => {
    const now = new Date("2026-12-02T04:00:00Z");
    const { token } = await signSessionAccessToken(usr.a, "ses_1", 900, SECRET, now);
    expect(await verifySessionAccessToken(token, SECRET, nowS(now) + 900)).toBeNull();
    expect(await verifySessionAccessToken(token, `${SECRET}-other`, nowS(now))).toBeNull();
    const [h, , s] = token.split(".");
    const otherPayload = btoa(
      JSON.stringify({ sub: usr.b, sid: "ses_1", iat: nowS(now), exp: nowS(now) + 900 }),
    )
      .replaceAll("=", "")
      .replaceAll("+", "-")
      .replaceAll("/", "_");
    expect(await verifySessionAccessToken(`${h}.${otherPayload}.${s}`, SECRET, nowS(now))).toBeNull();
    expect(await verifySessionAccessToken("not.a.jwt", SECRET, nowS(now))).toBeNull();
  });

  it("refuses a correctly signed token whose sid is not a string", async () => {
    const iat = nowS(new Date());
    const odd = await signAccessToken({ sub: usr.a, iat, exp: iat + 60, sid: 42 } as never, SECRET);
    expect(await verifySessionAccessToken(odd, SECRET, iat)).toBeNull();
    const empty = await signAccessToken({ sub: usr.a, iat, exp: iat + 60, sid: "" } as never, SECRET);
    expect(await verifySessionAccessToken(empty, SECRET, iat)).toBeNull();
    // Repeats come from the isolate's verified copy: the same answers, without a re-parse.
    expect(await verifySessionAccessToken(odd, SECRET, iat)).toBeNull();
    expect(await verifySessionAccessToken(empty, SECRET, iat)).toBeNull();
  });

  it("gives a repeat of a verified token the same session id", async () => {
    const now = new Date("2026-12-02T05:00:00Z");
    const { token } = await signSessionAccessToken(usr.a, "ses_repeat", 900, SECRET, now);
    const first = await verifySessionAccessToken(token, SECRET, nowS(now));
    const again = await verifySessionAccessToken(token, SECRET, nowS(now) + 10);
    expect(first).toEqual({ sub: usr.a, sid: "ses_repeat", iat: nowS(now), exp: nowS(now) + 900 });
    expect(again).toEqual(first);
  });
});
