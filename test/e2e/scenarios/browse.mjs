import assert from "node:assert/strict";
import { ready, shot } from "../lib/page-helpers.mjs";

const ITEM = "[data-testid='character-list'] [data-testid='character-item']";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function browseScenarios(t, ctx) {
  t.test(
    "browse: popular lists at least 12 characters, search and tag filter narrow the list",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      await page.waitForFunction(
        () => document.querySelectorAll("[data-testid='popular-item']").length >= 12,
        null,
        {
          timeout: 15_000,
        },
      );
      await listSettled(page);
      const before = await page.locator(ITEM).count();
      const names = await page.locator(`${ITEM} .char-card__name`).allTextContents();
      assert.ok(before >= 2, `expected several characters in the list, got ${before}`);

      // Search for a word from one name that the other names don't all share.
      const word = pickSearchWord(names);
      assert.ok(word, `no distinctive word in ${names.join(", ")}`);
      await page.fill("[data-testid='character-search']", word);
      await page.waitForFunction(
        (q) => document.querySelector("[data-testid='character-count']")?.textContent.includes(`“${q}”`),
        word,
      );
      await listSettled(page);
      const found = await page.locator(`${ITEM} .char-card__name`).allTextContents();
      assert.ok(found.length >= 1, `search "${word}" found nothing`);
      assert.ok(
        found.length < before,
        `search "${word}" should narrow ${before} characters, got ${found.length}`,
      );
      assert.ok(
        found.some((name) => name.toLowerCase().includes(word.toLowerCase())),
        `search "${word}" results ${found.join(", ")} should include the named character`,
      );

      await page.fill("[data-testid='character-search']", "");
      await page.waitForFunction(
        () => !document.querySelector("[data-testid='character-count']")?.textContent.includes("“"),
      );
      await listSettled(page);

      const chip = page.locator("[data-testid='tag-chip']:not([data-tag=''])").first();
      const tag = await chip.getAttribute("data-tag");
      await chip.click();
      await page.waitForFunction(
        (value) =>
          document.querySelector("[data-testid='character-count']")?.textContent.includes(`#${value}`),
        tag,
      );
      await listSettled(page);
      const tagged = await page.locator(ITEM).count();
      assert.ok(
        tagged >= 1 && tagged <= before,
        `tag #${tag} should show a subset, got ${tagged} of ${before}`,
      );
      await page.locator("[data-testid='tag-chip'][data-tag='']").click();
      await page.waitForFunction(
        () => !document.querySelector("[data-testid='character-count']")?.textContent.includes("#"),
      );
      await listSettled(page);
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, ctx.shotsDir, "characters-desktop");
    },
    { needs: ["guest start: a token is stored, reused after reload, and renewed when rejected"] },
  );
}

async function listSettled(page) {
  await page.waitForSelector("[data-testid='character-list'][aria-busy='false']");
}

function pickSearchWord(names) {
  for (const name of names) {
    for (const word of name.split(/\s+/)) {
      const clean = word.replace(/[^\p{L}\p{N}]/gu, "");
      if (clean.length < 3) continue;
      const sharing = names.filter((n) => n.toLowerCase().includes(clean.toLowerCase())).length;
      if (sharing < names.length) return clean;
    }
  }
  return null;
}
