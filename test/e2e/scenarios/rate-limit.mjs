import assert from "node:assert/strict";
import { ready } from "../lib/page-helpers.mjs";
import { CHAT_STREAM } from "./chat.mjs";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function rateLimitScenarios(t, ctx) {
  t.test(
    "rate limit: a 429 is shown as 'Too many requests — try again in N s'",
    async () => {
      const { page } = ctx.desktop;
      // Keep the strict zone (burst 10, refills 5/s) empty with requests that create nothing while
      // "Start chat" is pressed; its request then meets the limit. A refilled token can still slip
      // through to the button, so try a few times.
      for (let attempt = 1; ; attempt++) {
        await page.goto(ctx.characterUrl);
        await ready(page);
        await page.waitForSelector("[data-testid='start-chat']");
        const statuses = await page.evaluate(async () => {
          const token = localStorage.getItem("edge-art.token");
          const hit = () =>
            fetch("/api/v1/chats", {
              method: "POST",
              headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
              body: JSON.stringify({ character_id: "does-not-exist" }),
            }).then((r) => r.status);
          // First empty the bucket in one go, then keep it empty while the button is pressed. Three
          // times the burst: on a busy machine the server answers slowly and the bucket refills meanwhile.
          const statuses = await Promise.all(Array.from({ length: 30 }, hit));
          let draining = true;
          // Five workers: the browser's sixth connection stays free for the button's request.
          const workers = Array.from({ length: 5 }, async () => {
            while (draining) statuses.push(await hit());
          });
          await new Promise((resolve) => setTimeout(resolve, 300));
          document.querySelector("[data-testid='start-chat']").click();
          await new Promise((resolve) => setTimeout(resolve, 800));
          draining = false;
          await Promise.all(workers);
          return statuses;
        });
        assert.ok(
          statuses.includes(429),
          `expected 429s while draining, got ${[...new Set(statuses)].join(", ")}`,
        );
        const toast = page.locator("[data-testid='toast'][data-tone='error']").last();
        const outcome = await Promise.race([
          toast.waitFor().then(() => "toast"),
          page.waitForURL(/\/chats\//).then(() => "chat"),
        ]);
        if (outcome === "toast") {
          assert.match(await toast.textContent(), /Too many requests — try again in \d+ s/);
          return;
        }
        assert.ok(attempt < 3, "the button's request got through the limit three times");
        await page.waitForTimeout(2500);
      }
    },
    { needs: [CHAT_STREAM] },
  );
}
