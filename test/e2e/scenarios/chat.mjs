import assert from "node:assert/strict";
import { completeReplies, ready, shot, waitForReply, watchStreaming } from "../lib/page-helpers.mjs";

export const CHAT_STREAM = "chat: a reply streams in piece by piece, then completes";
const FIRST_MESSAGE = "Hello! Tell me a little about yourself.";
const OFFLINE_MESSAGE = "Sorry, my connection dropped — are you still there?";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function chatScenarios(t, ctx) {
  t.test(
    CHAT_STREAM,
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      await page.locator("[data-testid='popular-item'] a").first().click();
      await page.waitForSelector("[data-testid='character-name']");
      ctx.characterName = (await page.textContent("[data-testid='character-name']")).trim();
      ctx.characterUrl = page.url();
      await shot(page, ctx.shotsDir, "character-desktop");

      await page.click("[data-testid='start-chat']");
      await page.waitForURL(/\/chats\/[^/]+$/);
      await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
      await page.waitForSelector("[data-testid='connection-status'][data-state='online']");
      const before = await completeReplies(page);

      await watchStreaming(page);
      await page.fill("[data-testid='chat-input']", FIRST_MESSAGE);
      await page.press("[data-testid='chat-input']", "Enter");
      // The user's message is echoed with its id.
      await page.waitForSelector(
        "[data-testid='message'][data-role='user'][data-message-id][data-state='complete']",
      );
      await waitForReply(page, before);

      const streamed = await page.evaluate(() => window.__streamed);
      const reply = await page
        .locator("[data-testid='message'][data-role='assistant'][data-state='complete'] .bubble__text")
        .last()
        .textContent();
      assert.ok(reply.trim().length > 0, "the finished reply should have text");
      assert.ok(
        streamed.some((length) => length > 0 && length < reply.length),
        `expected a partial render before the reply was done (saw lengths ${streamed.slice(0, 10).join(", ")}; final ${reply.length})`,
      );
      ctx.chatUrl = page.url();
      ctx.reply = reply.trim();
      await shot(page, ctx.shotsDir, "chat-desktop");
    },
    { needs: ["guest start: a token is stored, reused after reload, and renewed when rejected"] },
  );

  t.test(
    "chat: a message typed while disconnected is queued, sent on reconnect, and answered",
    async () => {
      const { context, page } = ctx.desktop;
      const before = await completeReplies(page);
      // A real network drop: the socket closes, the client retries with backoff until it's back.
      await context.setOffline(true);
      await page.waitForSelector("[data-testid='connection-banner']:not([hidden])");
      await page.fill("[data-testid='chat-input']", OFFLINE_MESSAGE);
      await page.press("[data-testid='chat-input']", "Enter");
      await page.waitForSelector("[data-testid='message'][data-role='user'][data-state='queued']");
      await page.waitForTimeout(1500);
      const reloads = [];
      const onRequest = (request) => {
        if (/\/api\/v1\/chats\/[^/]+\/messages/.test(request.url())) reloads.push(request.url());
      };
      page.on("request", onRequest);
      await context.setOffline(false);
      await page.waitForSelector("[data-testid='connection-status'][data-state='online']", {
        timeout: 30_000,
      });
      await page.waitForFunction(
        (text) =>
          [
            ...document.querySelectorAll("[data-testid='message'][data-role='user'][data-state='complete']"),
          ].some((el) => el.textContent.includes(text)),
        OFFLINE_MESSAGE,
      );
      await waitForReply(page, before);
      page.off("request", onRequest);
      assert.ok(reloads.length >= 1, "after reconnecting, the open chat's messages should be reloaded");
      const users = await page.locator("[data-testid='message'][data-role='user']").allTextContents();
      assert.equal(
        users.filter((text) => text.includes(OFFLINE_MESSAGE)).length,
        1,
        "the queued message should appear once",
      );
    },
    { needs: [CHAT_STREAM] },
  );
}

export { FIRST_MESSAGE };
