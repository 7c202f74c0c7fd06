import assert from "node:assert/strict";
import { ready, shot } from "../lib/page-helpers.mjs";
import { CHAT_STREAM, FIRST_MESSAGE } from "./chat.mjs";
import { GENERATE_OK } from "./generate.mjs";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function historyScenarios(t, ctx) {
  t.test(
    "reload: the chat's messages and the gallery item are still there",
    async () => {
      const { page } = ctx.desktop;
      await page.goto(ctx.chatUrl);
      await ready(page);
      await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
      const texts = await page.locator("[data-testid='message'] .bubble__text").allTextContents();
      assert.ok(
        texts.some((text) => text.includes(FIRST_MESSAGE)),
        "the user's message should be in the history",
      );
      assert.ok(
        texts.some((text) => text.trim() === ctx.reply),
        `the streamed reply should be in the history:\n  want ${JSON.stringify(ctx.reply)}\n  have ${JSON.stringify(texts)}`,
      );
      // Oldest at the top: the user's first message comes before the reply to it.
      const order = texts.findIndex((text) => text.includes(FIRST_MESSAGE));
      assert.ok(
        order < texts.findIndex((text) => text.trim() === ctx.reply),
        "messages should be oldest first",
      );
      await page.waitForSelector("[data-testid='chat-list'] [data-testid='chat-item']");
      await shot(page, ctx.shotsDir, "chat-desktop");

      await page.goto("/gallery");
      await ready(page);
      await page.waitForSelector("[data-testid='gallery-list'][aria-busy='false']");
      const item = page.locator("[data-testid='gallery-item']", { hasText: ctx.prompt });
      await item.waitFor();
      assert.equal(await item.getAttribute("data-status"), "succeeded");
      await page.waitForFunction((prompt) => {
        const card = [...document.querySelectorAll("[data-testid='gallery-item']")].find((el) =>
          el.textContent.includes(prompt),
        );
        const img = card?.querySelector("[data-testid='job-image']");
        return img?.complete && img.naturalWidth > 0;
      }, ctx.prompt);
      await shot(page, ctx.shotsDir, "gallery-desktop");
    },
    { needs: [CHAT_STREAM, GENERATE_OK] },
  );
}
