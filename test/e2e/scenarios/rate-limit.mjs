import assert from "node:assert/strict";
import { ready } from "../lib/page-helpers.mjs";
import { CHAT_STREAM } from "./chat.mjs";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function rateLimitScenarios(t, ctx) {
  t.test(
    "rate limit: a 429 is shown as 'Too many requests — try again in N s'",
    async () => {
      const { page } = ctx.desktop;
      await page.goto(ctx.characterUrl);
      await ready(page);
      await page.waitForSelector("[data-testid='start-chat']");
      // Keep the strict zone (burst 10, 5/s) drained with requests that create nothing while the
      // UI asks for a chat; the UI's request then meets the limit.
      const draining = page.evaluate(async () => {
        const token = localStorage.getItem("edge-art.token");
        const hit = () =>
          fetch("/api/v1/chats", {
            method: "POST",
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
            body: JSON.stringify({ character_id: "does-not-exist" }),
          }).then((r) => r.status);
        const statuses = await Promise.all(Array.from({ length: 20 }, hit));
        for (let i = 0; i < 30; i++) {
          statuses.push(await hit());
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return statuses;
      });
      await page.waitForTimeout(300);
      await page.click("[data-testid='start-chat']");
      const statuses = await draining;
      assert.ok(
        statuses.includes(429),
        `expected 429s while draining, got ${[...new Set(statuses)].join(", ")}`,
      );
      const toast = page.locator("[data-testid='toast'][data-tone='error']").last();
      await toast.waitFor();
      assert.match(await toast.textContent(), /Too many requests — try again in \d+ s/);
    },
    { needs: [CHAT_STREAM] },
  );
}
