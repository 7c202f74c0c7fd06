import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { signAccessToken, verifyAccessToken } from "../../src/auth/jwt";
import { base64url } from "../../src/lib/crypto";

const SECRET = "a-test-secret-of-decent-length-0123456789";
const NOW = 1_800_000_000;
const claims = { sub: "usr_1", iat: NOW - 10, exp: NOW + 3600 };

describe("access tokens (hono/jwt, HS256 pinned)", () => {
  it("round-trips a signed token's claims", async () => {
    const token = await signAccessToken(claims, SECRET);
    expect(JSON.parse(atob(token.split(".")[0] ?? ""))).toEqual({ alg: "HS256", typ: "JWT" });
    expect(await verifyAccessToken(token, SECRET, NOW)).toEqual(claims);
  });

  it("refuses a token signed under another secret, or altered", async () => {
    const token = await signAccessToken(claims, SECRET);
    expect(await verifyAccessToken(token, `${SECRET}x`, NOW)).toBeNull();
    const [header, , signature] = token.split(".");
    const forged = `${header}.${base64url(JSON.stringify({ ...claims, sub: "usr_admin" }))}.${signature}`;
    expect(await verifyAccessToken(forged, SECRET, NOW)).toBeNull();
  });

  it.each(["HS384", "HS512"] as const)(
    "refuses a token signed with %s, even under the right secret",
    async (alg) => {
      const token = await sign({ ...claims }, SECRET, alg);
      expect(await verifyAccessToken(token, SECRET, NOW)).toBeNull();
    },
  );

  it("refuses alg=none", async () => {
    const none = `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}.`;
    expect(await verifyAccessToken(none, SECRET, NOW)).toBeNull();
  });

  it("enforces exp against the caller's clock, and requires sub, iat and exp", async () => {
    const token = await signAccessToken(claims, SECRET);
    expect(await verifyAccessToken(token, SECRET, claims.exp - 1)).not.toBeNull();
    expect(await verifyAccessToken(token, SECRET, claims.exp)).toBeNull();
    for (const partial of [
      { sub: "usr_1", iat: NOW },
      { iat: NOW, exp: NOW + 60 },
      { sub: "usr_1", exp: NOW + 60 },
    ]) {
      expect(await verifyAccessToken(await sign(partial, SECRET, "HS256"), SECRET, NOW)).toBeNull();
    }
  });

  it("answers a token verified before as the first time: expiry checked again, other secrets refused", async () => {
    const token = await signAccessToken({ ...claims, sub: "usr_again" }, SECRET);
    const first = await verifyAccessToken(token, SECRET, NOW);
    expect(first).toEqual({ ...claims, sub: "usr_again" });
    if (first) first.sub = "usr_mutated"; // the caller's copy, not the isolate's
    expect(await verifyAccessToken(token, SECRET, NOW)).toEqual({ ...claims, sub: "usr_again" });
    expect(await verifyAccessToken(token, SECRET, claims.exp)).toBeNull();
    expect(await verifyAccessToken(token, `${SECRET}x`, NOW)).toBeNull();
    const [header, payload, signature] = token.split(".");
    expect(await verifyAccessToken(`${header}.${payload}.${signature?.slice(1)}`, SECRET, NOW)).toBeNull();
    // Verified once while expired (signature good): still refused, and still valid earlier.
    const expired = await signAccessToken({ ...claims, sub: "usr_late", exp: NOW }, SECRET);
    expect(await verifyAccessToken(expired, SECRET, NOW)).toBeNull();
    expect(await verifyAccessToken(expired, SECRET, NOW - 1)).not.toBeNull();
  });

  it("refuses malformed tokens", async () => {
    for (const bad of ["", "a.b", "a.b.c", "a.b.c.d", "..."]) {
      expect(await verifyAccessToken(bad, SECRET, NOW)).toBeNull();
    }
  });
});
