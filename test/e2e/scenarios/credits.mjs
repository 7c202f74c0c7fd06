import assert from "node:assert/strict";
import { DESKTOP, openPage } from "../lib/browser.mjs";
import { ready } from "../lib/page-helpers.mjs";

/** Spends `count` generations of `params` as the page's guest, straight through the API. */
function spend(page, params, count) {
  return page.evaluate(
    async ({ params, count }) => {
      const token = localStorage.getItem("edge-art.token");
      const statuses = [];
      for (let i = 0; i < count; i++) {
        const response = await fetch("/api/v1/generate", {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ prompt: `credits ${i}`, ...params }),
        });
        statuses.push(response.status);
      }
      window.dispatchEvent(new Event("edge-art:spent"));
      return statuses;
    },
    { params, count },
  );
}

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function creditScenarios(t, ctx) {
  t.test("credits: the header shows what is left, and an exhausted allowance in words", async () => {
    // A guest of its own: the other scenarios keep their credits.
    const { context, page } = await openPage(ctx.browser, DESKTOP, { baseUrl: ctx.baseUrl });
    try {
      await page.goto("/");
      await ready(page);
      const badge = page.locator("[data-testid='credits']");
      await badge.waitFor();
      const limit = Number((await badge.textContent()).match(/(\d+) credits left/)?.[1]);
      assert.ok(limit > 0, "a fresh guest has credits");

      // 1024 x 1024 at 50 steps costs 10 credits; spend all of it, two jobs at a time (the active-job quota).
      const jobs = Math.floor(limit / 10);
      for (let done = 0; done < jobs; done += 2) {
        const statuses = await spend(
          page,
          { width: 1024, height: 1024, steps: 50 },
          Math.min(2, jobs - done),
        );
        assert.ok(
          statuses.every((s) => s === 202 || s === 429),
          `unexpected statuses ${statuses}`,
        );
        await page.waitForTimeout(2500);
      }
      await page.waitForFunction(() => {
        const text = document.querySelector("[data-testid='credits']")?.textContent ?? "";
        return text === "No credits left";
      });
      assert.equal(await badge.getAttribute("data-state"), "exhausted");
      assert.match(
        (await badge.getAttribute("title")) ?? "",
        new RegExp(
          `^You've used today's ${limit} credits; they reset in (\\d+ h )?\\d+ min\\.$|less than a minute`,
        ),
      );
    } finally {
      await context.close();
    }
  });
}
