import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { DESKTOP, openPage, PHONE } from "../lib/browser.mjs";
import {
  completeReplies,
  ready,
  settle,
  shot,
  storedToken,
  TOKEN_KEY,
  waitForReply,
} from "../lib/page-helpers.mjs";

export const PASSKEY_ROUND_TRIP =
  "accounts: a guest adds a passkey, clears storage, signs back in and finds their chats";
const REFRESH_KEY = "edge-art.refresh";
const EXPIRES_KEY = "edge-art.expires";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function accountScenarios(t, ctx) {
  /** A browser context of its own (these scenarios end by deleting their user), with a passkey authenticator. */
  const state = {};

  t.test(
    PASSKEY_ROUND_TRIP,
    async () => {
      const session = await openPage(ctx.browser, DESKTOP, { baseUrl: ctx.baseUrl });
      Object.assign(state, session);
      const { page } = session;
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("WebAuthn.enable");
      const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
        options: {
          protocol: "ctap2",
          transport: "internal",
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      });
      Object.assign(state, { cdp, authenticatorId });

      // A guest chats.
      await page.goto("/");
      await ready(page);
      await page.waitForSelector("[data-testid='save-chats-cta']");
      await page.locator("[data-testid='popular-item'] a").first().click();
      await page.click("[data-testid='start-chat']");
      await page.waitForURL(/\/chats\/[^/]+$/);
      const chatId = page.url().split("/").pop();
      await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
      await page.waitForSelector("[data-testid='connection-status'][data-state='online']");
      const before = await completeReplies(page);
      await page.fill("[data-testid='chat-input']", "Remember me, please.");
      await page.press("[data-testid='chat-input']", "Enter");
      await waitForReply(page, before);
      const guestId = await page.evaluate(() => JSON.parse(localStorage.getItem("edge-art.user")).id);

      // "Save your chats": the top-bar link leads to the settings page's passkey card.
      await page.click("[data-testid='save-chats-cta']");
      await page.waitForURL(/\/settings$/);
      await page.click("[data-testid='add-passkey']");
      await page.waitForSelector("[data-testid='toast'][data-tone='success']:has-text('Passkey added')");
      await page.waitForSelector("[data-testid='account-card']");
      await page.waitForSelector("[data-testid='account-link']");
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      assert.equal(credentials.length, 1, "the authenticator should hold one passkey");
      assert.equal(credentials[0].isResidentCredential, true, "the passkey should be discoverable");
      await page.waitForSelector("[data-testid='passkey-list'][aria-busy='false'] [data-testid='passkey']");

      // Storage gone: the browser is a stranger, a new guest with no chats.
      await page.evaluate(() => {
        localStorage.clear();
        sessionStorage.clear();
      });
      await page.reload();
      await ready(page);
      await page.waitForSelector("[data-testid='save-chats-cta']");
      const strangerId = await page.evaluate(() => JSON.parse(localStorage.getItem("edge-art.user")).id);
      assert.notEqual(strangerId, guestId, "cleared storage should start a new guest");
      // The new guest starts a chat of its own: it moves into the account at sign-in.
      await page.goto("/");
      await ready(page);
      await page.locator("[data-testid='popular-item'] a").first().click();
      await page.click("[data-testid='start-chat']");
      await page.waitForURL(/\/chats\/[^/]+$/);
      const strangerChatId = page.url().split("/").pop();

      // Sign back in with the passkey (discoverable: nothing typed).
      await page.goto("/settings");
      await ready(page);
      await page.click("[data-testid='passkey-sign-in']");
      await page.waitForURL(/\/chats$/);
      await ready(page);
      const toast = await page
        .locator("[data-testid='toast'][data-tone='success']")
        .filter({ hasText: "Signed in" })
        .first()
        .textContent();
      assert.match(
        toast,
        /1 chat moved to your account/,
        `the sign-in should say what moved, said: ${toast}`,
      );
      await page.waitForSelector("[data-testid='chat-list'][aria-busy='false']");
      for (const id of [chatId, strangerChatId]) {
        await page.waitForSelector(`[data-testid='chat-item'][data-chat-id='${id}']`);
      }
      const userId = await page.evaluate(() => JSON.parse(localStorage.getItem("edge-art.user")).id);
      assert.equal(userId, guestId, "the passkey should sign in as the user that added it");
      await page.waitForSelector("[data-testid='account-link']");
      state.chatIds = [chatId, strangerChatId];
    },
    { timeoutMs: 120_000 },
  );

  t.test(
    "accounts: settings list sessions and passkeys, save the persona, export, then delete everything",
    async () => {
      const { page, cdp, authenticatorId } = state;
      await page.goto("/settings");
      await ready(page);
      await page.waitForSelector("[data-testid='session-list'][aria-busy='false']");
      const sessions = page.locator("[data-testid='session']");
      // The session that registered the passkey, and the one that signed in with it.
      assert.ok((await sessions.count()) >= 2, `expected at least 2 sessions, saw ${await sessions.count()}`);
      assert.equal(await page.locator("[data-testid='session'][data-current='true']").count(), 1);
      await page.waitForSelector("[data-testid='current-session']");

      // Profile and persona.
      await page.fill("[data-testid='display-name']", "Passkey Tester");
      await page.fill("[data-testid='persona-name']", "Robin");
      await page.fill("[data-testid='persona-description']", "A curious traveller who asks many questions.");
      await page.click("[data-testid='save-profile']");
      await page.waitForSelector("[data-testid='profile-form'] [role='status']:has-text('Saved')");
      await page.waitForSelector("[data-testid='account-link']:has-text('Passkey Tester')");
      const me = await api(page, "/api/v1/me");
      assert.equal(me.body.user.display_name, "Passkey Tester");
      assert.deepEqual(me.body.user.persona, {
        name: "Robin",
        description: "A curious traveller who asks many questions.",
      });
      await page.reload();
      await ready(page);
      assert.equal(
        await page.inputValue("[data-testid='persona-name']"),
        "Robin",
        "the persona should be kept",
      );
      await page.waitForSelector("[data-testid='session-list'][aria-busy='false']");
      await page.waitForSelector("[data-testid='passkey-list'][aria-busy='false']");
      await fullShot(page, ctx.shotsDir, "settings-desktop");

      // On a phone (a context of its own with this access token; no refresh token, so it never
      // rotates the one this page holds).
      const phone = await openPage(ctx.browser, PHONE, {
        baseUrl: ctx.baseUrl,
        token: await storedToken(page),
      });
      try {
        await phone.page.goto("/settings");
        await ready(phone.page);
        await phone.page.waitForSelector("[data-testid='session-list'][aria-busy='false']");
        await phone.page.waitForSelector("[data-testid='account-link']");
        const overflow = await phone.page.evaluate(
          () => document.documentElement.scrollWidth - window.innerWidth,
        );
        assert.ok(overflow <= 0, `the settings page scrolls sideways by ${overflow} px on a phone`);
        await shot(phone.page, ctx.shotsDir, "settings-phone");
      } finally {
        await phone.context.close();
      }

      // Another device signed out from here.
      const others = page.locator("[data-testid='session'][data-current='false']");
      const otherCount = await others.count();
      assert.ok(otherCount >= 1, "there should be another session to sign out");
      await others.first().locator("[data-testid='revoke-session']").click();
      await page.waitForFunction(
        (count) =>
          document.querySelectorAll("[data-testid='session'][data-current='false']").length === count - 1,
        otherCount,
      );

      // Export: an NDJSON download with the user's chats in it.
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click("[data-testid='export-data']"),
      ]);
      assert.match(download.suggestedFilename(), /\.ndjson$/);
      const lines = readFileSync(await download.path(), "utf8")
        .trim()
        .split("\n");
      const records = lines.map((line) => JSON.parse(line));
      assert.ok(
        records.length >= 3,
        `expected user, chats and messages in the export, got ${records.length} lines`,
      );
      const text = lines.join("\n");
      for (const id of state.chatIds) assert.ok(text.includes(id), `the export should contain chat ${id}`);

      // The session is revoked elsewhere: the refresh is refused and the account is signed out
      // here, with the way back in.
      assert.equal((await api(page, "/api/v1/auth/logout", undefined, "POST")).status, 204);
      await page.evaluate((key) => localStorage.setItem(key, "revoked-token"), TOKEN_KEY);
      await page.click("[data-testid='nav-chats']");
      await page.waitForSelector("[data-testid='signed-out']");
      assert.match(await page.textContent("[data-testid='signed-out']"), /session has ended/);
      await page.reload();
      await page.waitForSelector("body[data-session='signed-out'] [data-testid='signed-out']");
      await page.click("[data-testid='passkey-sign-in']");
      await page.waitForURL(/\/chats$/);
      await ready(page);
      await page.waitForSelector("[data-testid='toast']:has-text('Signed in')");
      await page.waitForSelector(`[data-testid='chat-item'][data-chat-id='${state.chatIds[0]}']`);
      await page.goto("/settings");
      await ready(page);

      // Delete everything, after a confirmation.
      const oldToken = await storedToken(page);
      await page.click("[data-testid='delete-data']");
      await page.waitForSelector("[data-testid='delete-dialog']");
      await page.click("[data-testid='confirm-delete']");
      await page.waitForURL((url) => url.pathname === "/");
      await ready(page);
      await page.waitForSelector("[data-testid='toast']:has-text('Your data was deleted')");
      await page.waitForSelector("[data-testid='save-chats-cta']");
      assert.equal(
        (await api(page, "/api/v1/me", oldToken)).status,
        401,
        "the deleted user's token must stop working",
      );
      await page.goto("/chats");
      await ready(page);
      await page.waitForSelector("[data-testid='chat-list'][aria-busy='false']");
      assert.equal(await page.locator("[data-testid='chat-item']").count(), 0, "the chats should be gone");
      for (const id of state.chatIds) {
        assert.equal(
          (await api(page, `/api/v1/chats/${id}/messages`)).status,
          404,
          `chat ${id} should be gone`,
        );
      }

      // The passkey on the device now names a user that no longer exists.
      await page.goto("/settings");
      await ready(page);
      await page.click("[data-testid='passkey-sign-in']");
      await page.waitForSelector("[data-testid='toast'][data-tone='error']:has-text('passkey')");
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      assert.equal(credentials.length, 1, "the authenticator still holds the (now orphaned) passkey");
      await state.context.close();
    },
    { needs: [PASSKEY_ROUND_TRIP], timeoutMs: 120_000 },
  );

  t.test("accounts: an expired access token is refreshed silently, for HTTP and the socket", async () => {
    const { context, page } = await openPage(ctx.browser, DESKTOP, { baseUrl: ctx.baseUrl });
    try {
      await page.goto("/");
      await ready(page);
      await page.waitForSelector("[data-testid='connection-status'][data-state='online']");
      const first = await tokens(page);
      assert.ok(first.refresh, "a guest sign-in should store a refresh token");
      assert.ok(first.expires > Date.now(), "the access token's expiry should be stored");

      // The server refuses the access token: the next API call refreshes and retries, unseen.
      await page.evaluate((key) => localStorage.setItem(key, `${localStorage.getItem(key)}x`), TOKEN_KEY);
      const refreshes = [];
      page.on("request", (request) => {
        if (request.url().endsWith("/api/v1/auth/refresh")) refreshes.push(request.url());
      });
      await page.click("[data-testid='nav-chats']");
      await page.waitForSelector("[data-testid='chat-list'][aria-busy='false']");
      const second = await tokens(page);
      assert.equal(refreshes.length, 1, "one refresh should have been made");
      // Not compared with the first token: one issued within the same second for the same
      // session is the same string (same claims, same signature), which is fine.
      assert.notEqual(second.token, `${first.token}x`, "the refused access token should be replaced");
      assert.notEqual(second.refresh, first.refresh, "the refresh token should rotate");
      assert.equal(second.userId, first.userId, "the refreshed session is the same user");
      assert.equal((await api(page, "/api/v1/me")).status, 200);

      // The token expires while the socket is up; the socket drops; before reconnecting the
      // client refreshes (an expired token's upgrade would be refused).
      await page.evaluate(
        ([tokenKey, expiresKey]) => {
          localStorage.setItem(tokenKey, "expired-access-token");
          localStorage.setItem(expiresKey, String(Date.now() - 1000));
        },
        [TOKEN_KEY, EXPIRES_KEY],
      );
      await context.setOffline(true);
      await page.waitForSelector("[data-testid='connection-status'][data-state='offline']");
      await context.setOffline(false);
      await page.waitForSelector("[data-testid='connection-status'][data-state='online']", {
        timeout: 30_000,
      });
      const third = await tokens(page);
      assert.equal(refreshes.length, 2, "the reconnect should have refreshed once");
      assert.notEqual(third.token, "expired-access-token");
      assert.equal(third.userId, first.userId);
      assert.equal(
        await page.locator("[data-testid='toast'][data-tone='error']").count(),
        0,
        "no error should be shown for a refresh",
      );

      // Concurrent 401s in two tabs share one refresh (a second use of the same refresh token
      // would revoke the session).
      const other = await context.newPage();
      await other.goto("/chats");
      await ready(other);
      await page.evaluate((key) => localStorage.setItem(key, "bad-token"), TOKEN_KEY);
      const before = refreshes.length;
      other.on("request", (request) => {
        if (request.url().endsWith("/api/v1/auth/refresh")) refreshes.push(request.url());
      });
      await Promise.all([
        page.evaluate(() => import("/app/api.js").then(({ request }) => request("/me"))),
        other.evaluate(() => import("/app/api.js").then(({ request }) => request("/me"))),
      ]);
      assert.equal(refreshes.length - before, 1, "two tabs should make one refresh between them");
      assert.equal((await api(page, "/api/v1/me")).status, 200);
      await other.close();

      // A revoked session cannot be refreshed: a guest starts over, and is told so.
      const revoked = await api(page, "/api/v1/auth/logout", undefined, "POST");
      assert.equal(revoked.status, 204);
      await page.evaluate((key) => localStorage.setItem(key, "revoked-token"), TOKEN_KEY);
      await page.click("[data-testid='nav-gallery']");
      await page.waitForSelector("[data-testid='toast']:has-text('guest session had ended')");
      const fourth = await tokens(page);
      assert.notEqual(fourth.userId, first.userId, "a new guest should have been started");
      assert.equal((await api(page, "/api/v1/me")).status, 200);
    } finally {
      await context.close();
    }
  });
}

/** The whole settings page, not only the viewport: its sessions and passkeys are below the fold. */
async function fullShot(page, dir, name) {
  await settle(page).catch(() => {});
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** The stored session of `page`. */
function tokens(page) {
  return page.evaluate(
    ([tokenKey, refreshKey, expiresKey]) => ({
      token: localStorage.getItem(tokenKey),
      refresh: localStorage.getItem(refreshKey),
      expires: Number(localStorage.getItem(expiresKey)),
      userId: JSON.parse(localStorage.getItem("edge-art.user") ?? "null")?.id,
    }),
    [TOKEN_KEY, REFRESH_KEY, EXPIRES_KEY],
  );
}

/** A request from the page with its stored token (or `token`): `{status, body}`. */
function api(page, path, token, method = "GET") {
  return page.evaluate(
    async ([path, token, method, key]) => {
      const response = await fetch(path, {
        method,
        headers: { Authorization: `Bearer ${token ?? localStorage.getItem(key)}` },
      });
      const body = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
      return { status: response.status, body };
    },
    [path, token, method, TOKEN_KEY],
  );
}
