import assert from "node:assert/strict";
import { openPage, PHONE } from "../lib/browser.mjs";
import { ready, shot } from "../lib/page-helpers.mjs";
import { CHAT_STREAM } from "./chat.mjs";
import { GENERATE_OK } from "./generate.mjs";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function phoneScenarios(t, ctx) {
  t.test(
    "phone: the main screens fit a 390 px screen (screenshots)",
    async () => {
      const { context, page, problems } = await openPage(ctx.browser, PHONE, {
        baseUrl: ctx.baseUrl,
        token: ctx.token,
      });
      ctx.phoneProblems = problems;
      try {
        const screens = [
          ["/", "characters-phone", "[data-testid='popular-item']"],
          [ctx.characterUrl, "character-phone", "[data-testid='character-name']"],
          [ctx.chatUrl, "chat-phone", "[data-testid='message'][data-role='assistant']"],
          ["/generate", "generate-phone", "[data-testid='generate-form']"],
          ["/gallery", "gallery-phone", "[data-testid='gallery-item']"],
        ];
        for (const [url, name, selector] of screens) {
          await page.goto(url);
          await ready(page);
          await page.waitForSelector(selector);
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - window.innerWidth,
          );
          assert.ok(overflow <= 0, `${url} scrolls sideways by ${overflow} px on a phone`);
          await shot(page, ctx.shotsDir, name);
        }
      } finally {
        await context.close();
      }
    },
    { needs: [CHAT_STREAM, GENERATE_OK], timeoutMs: 90_000 },
  );
}
