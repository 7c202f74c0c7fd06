import assert from "node:assert/strict";
import path from "node:path";
import { ready } from "../lib/page-helpers.mjs";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function importScenarios(t, ctx) {
  t.test(
    "import: a PNG character card becomes a character",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      const card = path.join(ctx.root, "test/fixtures/cards/seraphina.png");
      await page.setInputFiles("[data-testid='import-card-input']", card);
      await page.waitForURL(/\/characters\/[^/]+$/, { timeout: 20_000 }).catch(async (error) => {
        const toast = await page.locator("[data-testid='toast']").allTextContents();
        throw new Error(
          `no character page after import${toast.length ? `; the page said: ${toast.join(" | ")}` : ""}`,
          {
            cause: error,
          },
        );
      });
      const name = (await page.textContent("[data-testid='character-name']")).trim();
      assert.match(name, /Seraphina/i);
      await page.waitForSelector("[data-testid='character-greeting']");

      await page.goto(`/?q=${encodeURIComponent("Seraphina")}`);
      await ready(page);
      await page.waitForSelector("[data-testid='character-list'][aria-busy='false']");
      const names = await page.locator("[data-testid='character-list'] .char-card__name").allTextContents();
      assert.ok(
        names.some((n) => /Seraphina/i.test(n)),
        `the imported character should be listed, got ${names.join(", ")}`,
      );
    },
    { needs: ["guest start: a token is stored, reused after reload, and renewed when rejected"] },
  );
}
