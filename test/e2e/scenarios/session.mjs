import assert from "node:assert/strict";
import { ready, storedToken, TOKEN_KEY } from "../lib/page-helpers.mjs";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function sessionScenarios(t, ctx) {
  t.test("guest start: a token is stored, reused after reload, and renewed when rejected", async () => {
    const { page } = ctx.desktop;
    await page.goto("/");
    await ready(page);
    const token = await storedToken(page);
    assert.ok(token && token.length > 10, `expected a stored token, got ${token}`);

    await page.reload();
    await ready(page);
    assert.equal(await storedToken(page), token, "the token should be reused across reloads");

    // An expired/invalid token: /me answers 401 and the client quietly signs up a new guest.
    await page.evaluate((key) => localStorage.setItem(key, "expired-token"), TOKEN_KEY);
    await page.reload();
    await ready(page);
    const renewed = await storedToken(page);
    assert.ok(renewed && renewed !== "expired-token", "a rejected token should be replaced");
    const status = await page.evaluate(
      async (value) => (await fetch("/api/v1/me", { headers: { Authorization: `Bearer ${value}` } })).status,
      renewed,
    );
    assert.equal(status, 200, "the renewed token should be accepted by /me");
    ctx.token = renewed;
    await page.waitForSelector("[data-testid='connection-status'][data-state='online']", { timeout: 15_000 });
  });
}
