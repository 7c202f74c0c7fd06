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
      // Empty the strict zone (burst 10, refills 5/s) with requests that create nothing, then press
      // "Start chat" in the same moment, before the bucket refills one token.
      const statuses = await page.evaluate(async () => {
        const token = localStorage.getItem("edge-art.token");
        const hit = () =>
          fetch("/api/v1/chats", {
            method: "POST",
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
            body: JSON.stringify({ character_id: "does-not-exist" }),
          }).then((r) => r.status);
        const drained = await Promise.all(Array.from({ length: 25 }, hit));
        document.querySelector("[data-testid='start-chat']").click();
        return drained;
      });
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
