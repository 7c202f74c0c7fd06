import assert from "node:assert/strict";
import { ready } from "../lib/page-helpers.mjs";
import { START_CHAT } from "./keyboard.mjs";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function chatFailureScenarios(t, ctx) {
  t.test(
    "failed reply: the error sits right under the failed reply, and Retry sends the message again (16.8)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto(ctx.keyboardChatUrl);
      await ready(page);
      await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
      await page.waitForSelector("[data-testid='connection-status'][data-state='online']");
      // One failure before the first word, one in the middle of the reply: same layout for both.
      for (const mode of ["error", "midfail"]) {
        const text = `Are you there? (${mode}) [[emu:chat=${mode}]]`;
        const errorsBefore = await page.locator("[data-testid='chat-error']").count();
        await page.fill("[data-testid='chat-input']", text);
        await page.press("[data-testid='chat-input']", "Enter");
        await page.waitForFunction(
          (count) =>
            document.querySelectorAll("[data-testid='chat-error']").length > count &&
            !document.querySelector("[data-state='streaming'], [data-testid='typing']"),
          errorsBefore,
          { timeout: 30_000 },
        );
        // Let any late frame land, then read the layout.
        await page.waitForTimeout(1500);
        const layout = await page.evaluate(() => {
          const items = [...document.querySelectorAll("[data-testid='message-list'] > li")];
          const error = [...document.querySelectorAll("[data-testid='chat-error']")].at(-1);
          const at = items.indexOf(error);
          const describe = (el) => (el ? `${el.dataset.testid}:${el.dataset.role ?? ""}` : "none");
          return {
            before: describe(items[at - 1]),
            before2: describe(items[at - 2]),
            last: at === items.length - 1,
            retry: Boolean(error.querySelector("[data-testid='retry-reply']")),
          };
        });
        assert.equal(
          layout.before,
          "message:assistant",
          `(${mode}) the error should follow the failed reply`,
        );
        assert.equal(layout.before2, "message:user", `(${mode}) ...which follows the user's message`);
        assert.ok(layout.last, `(${mode}) the error should be the last thing in the chat`);
        assert.ok(layout.retry, `(${mode}) the error should offer Retry`);
      }
      // Retry sends the last user message again: it appears a second time, and gets its answer.
      const last = "Are you there? (midfail) [[emu:chat=midfail]]";
      const count = () =>
        page.evaluate(
          (content) =>
            [...document.querySelectorAll("[data-testid='message'][data-role='user']")].filter(
              (el) => el.dataset.content === content,
            ).length,
          last,
        );
      assert.equal(await count(), 1);
      const errors = await page.locator("[data-testid='chat-error']").count();
      await page.locator("[data-testid='chat-error']").last().locator("[data-testid='retry-reply']").click();
      await page.waitForFunction(
        (content) =>
          [...document.querySelectorAll("[data-testid='message'][data-role='user'][data-message-id]")].filter(
            (el) => el.dataset.content === content,
          ).length === 2,
        last,
        { timeout: 15_000 },
      );
      await page.waitForFunction(
        (n) =>
          document.querySelectorAll("[data-testid='chat-error']").length > n &&
          !document.querySelector("[data-state='streaming'], [data-testid='typing']"),
        errors,
        { timeout: 30_000 },
      );
      assert.equal(
        await page.locator("[data-testid='retry-reply']").count(),
        1,
        "only the newest failure offers Retry",
      );
    },
    { needs: [START_CHAT], timeoutMs: 90_000 },
  );
}
