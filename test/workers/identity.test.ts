import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/jwt";
import { api, bearer, json, newGuest, problem } from "./support/api";

describe("POST /auth/guest", () => {
  it("creates a user and a short-lived token (with a refresh token) that /me accepts", async () => {
    const res = await api("/auth/guest", json({ display_name: "Ada" }));
    expect(res.status).toBe(201);
    const body = await res.json<{
      token: string;
      refresh_token: string;
      user: { id: string; display_name: string; kind: string; persona: unknown };
      expires_at: string;
    }>();
    expect(body.user).toMatchObject({ display_name: "Ada", kind: "guest", persona: null });
    expect(body.refresh_token).toMatch(/^rt_/);
    // ACCESS_TOKEN_TTL_S (900 s by default): short-lived, the refresh token renews it.
    const ttlMs = Date.parse(body.expires_at) - Date.now();
    expect(ttlMs).toBeGreaterThan(800_000);
    expect(ttlMs).toBeLessThanOrEqual(900_000);

    const me = await api("/me", bearer(body.token));
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: body.user });
  });

  it("accepts an empty body and names the guest", async () => {
    const res = await api("/auth/guest", { method: "POST" });
    expect(res.status).toBe(201);
    const body = await res.json<{ user: { display_name: string } }>();
    expect(body.user.display_name).toMatch(/^Guest /);
  });

  it.each([
    [{ display_name: "" }, "display_name"],
    [{ display_name: "x".repeat(41) }, "display_name"],
    [{ display_name: 42 }, "display_name"],
    [{ admin: true }, "(root)"],
  ])("rejects %j with 400 naming %s", async (body, path) => {
    const res = await api("/auth/guest", json(body));
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p.code).toBe("invalid_request");
    expect(p.errors?.map((e) => e.path)).toContain(path);
  });

  it("rejects malformed JSON with 400, never 500", async () => {
    const res = await api("/auth/guest", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("invalid_request");
  });
});

describe("GET /me", () => {
  const secret = () => env.JWT_SECRET;

  it("is 401 without a token", async () => {
    const res = await api("/me");
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
    expect((await problem(res)).code).toBe("unauthorized");
  });

  it.each(["garbage", "a.b.c", "Bearer", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])(
    "is 401 for the malformed token %j",
    async (token) => {
      const res = await api("/me", bearer(token));
      expect(res.status).toBe(401);
    },
  );

  it("is 401 for a token signed with another secret (forged)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = await signAccessToken(
      { sub: "usr_x", iat: now, exp: now + 60 },
      "not-the-real-secret-0123456789abcdef",
    );
    expect((await api("/me", bearer(forged))).status).toBe(401);
  });

  it("is 401 for an expired token", async () => {
    const guest = await newGuest();
    const now = Math.floor(Date.now() / 1000);
    const expired = await signAccessToken({ sub: guest.user.id, iat: now - 120, exp: now - 60 }, secret());
    expect((await api("/me", bearer(expired))).status).toBe(401);
  });

  it("is 401 for an alg=none token carrying a real user id", async () => {
    const guest = await newGuest();
    const payload = btoa(JSON.stringify({ sub: guest.user.id, iat: 0, exp: 9999999999 })).replace(/=+$/, "");
    const token = `${btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "")}.${payload}.`;
    expect((await api("/me", bearer(token))).status).toBe(401);
  });

  it("is 401 for a tampered payload", async () => {
    const guest = await newGuest();
    const [h, , s] = guest.token.split(".");
    const other = btoa(JSON.stringify({ sub: "usr_someone_else", iat: 0, exp: 9999999999 })).replace(
      /=+$/,
      "",
    );
    expect((await api("/me", bearer(`${h}.${other}.${s}`))).status).toBe(401);
  });
});
