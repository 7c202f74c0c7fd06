import assert from "node:assert/strict";
import { ready } from "../lib/page-helpers.mjs";
import { CHAT_STREAM } from "./chat.mjs";

const ONLINE = "[data-testid='connection-status'][data-state='online']";
const NOT_ONLINE = "[data-testid='connection-status']:not([data-state='online'])";
const BACK_ONLINE = "[data-testid='toast']:has-text('back online')";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function reconnectScenarios(t, ctx) {
  t.test(
    "reconnect: a chat opened while the server is down fills in when it is back (16.2)",
    async () => {
      const { page } = ctx.desktop;
      assert.ok(ctx.server, "this scenario restarts the dev server; run it without E2E_BASE_URL");
      const chatPath = new URL(ctx.chatUrl).pathname;
      await page.goto("/chats");
      await ready(page);
      await page.waitForSelector(ONLINE);
      await ctx.server.stop();
      await page.waitForSelector(NOT_ONLINE, { timeout: 30_000 });
      // Back into the chat while nothing answers: header, avatars, history and sidebar all fail.
      await page.evaluate((path) => window.edgeArt.router.navigate(path), chatPath);
      await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
      await ctx.server.start();
      await page.waitForSelector(ONLINE, { timeout: 40_000 });
      await page.waitForSelector(BACK_ONLINE, { timeout: 5_000 });
      const name = ctx.characterName.split(/,\s+/)[0];
      await page.waitForFunction(
        (expected) => document.querySelector("[data-testid='chat-title']")?.textContent.trim() === expected,
        name,
        { timeout: 15_000 },
      );
      await page.waitForSelector("[data-testid='chat-view'] .chat-head__avatar .avatar");
      await page.waitForSelector("[data-testid='message'][data-role='assistant'] .msg__avatar .avatar");
      assert.match(await page.getAttribute("[data-testid='chat-input']", "placeholder"), new RegExp(name));
      await page.waitForSelector(`[data-testid='chat-list'] [data-chat-id]`);
      assert.equal(
        await page.locator("[data-testid='chat-list'] .empty").count(),
        0,
        "the sidebar should no longer show the error",
      );
    },
    { needs: [CHAT_STREAM], timeoutMs: 240_000 },
  );

  t.test(
    "reconnect: the chat list and a search made while offline reload when the network is back (16.2)",
    async () => {
      const { context, page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      await page.waitForSelector(ONLINE);

      await context.setOffline(true);
      await page.waitForSelector(NOT_ONLINE);
      await page.click("[data-testid='nav-chats']");
      await page.waitForSelector("[data-testid='chat-list'][aria-busy='false']");
      await context.setOffline(false);
      await page.waitForSelector(ONLINE, { timeout: 30_000 });
      await page.waitForSelector("[data-testid='chat-list'] [data-testid='chat-item']", { timeout: 10_000 });
      await page.waitForSelector(BACK_ONLINE, { timeout: 5_000 });

      await context.setOffline(true);
      await page.waitForSelector(NOT_ONLINE);
      await page.click("[data-testid='nav-characters']");
      await page.fill("[data-testid='character-search']", "a");
      await page.waitForSelector("[data-testid='character-list'][aria-busy='false']");
      await context.setOffline(false);
      await page.waitForSelector(ONLINE, { timeout: 30_000 });
      await page.waitForFunction(
        () =>
          document.querySelectorAll("[data-testid='character-list'] [data-testid='character-item']").length >
            0 && document.querySelectorAll("[data-testid='popular-item']").length > 0,
        null,
        { timeout: 10_000 },
      );
      assert.equal(await page.locator(".char-card--skeleton").count(), 0, "no grey skeletons left");
    },
    { needs: [CHAT_STREAM], timeoutMs: 120_000 },
  );
}
