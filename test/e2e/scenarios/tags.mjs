import assert from "node:assert/strict";
import { ready } from "../lib/page-helpers.mjs";

const GUEST = "guest start: a token is stored, reused after reload, and renewed when rejected";
const CHIPS = "[data-testid='tag-filter'] [data-testid='tag-chip']:not([data-tag=''])";
const ITEM = "[data-testid='character-list'] [data-testid='character-item']";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function tagScenarios(t, ctx) {
  t.test(
    "tags: the tag list is complete and stays the same across searches and visits (16.6)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      await listSettled(page);
      const chips = () => page.locator(CHIPS).evaluateAll((els) => els.map((el) => el.dataset.tag));
      const first = await chips();
      // Every tag of every character the caller can see, per the API.
      const all = await page.evaluate(async () => {
        const token = localStorage.getItem("edge-art.token");
        const tags = new Set();
        let cursor = "";
        do {
          const url = `/api/v1/characters?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
          const page = await (await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).json();
          for (const c of page.items) for (const tag of c.tags) tags.add(tag.toLowerCase());
          cursor = page.next_cursor;
        } while (cursor);
        return [...tags];
      });
      const shown = new Set(first.map((tag) => tag.toLowerCase()));
      const missing = all.filter((tag) => !shown.has(tag));
      assert.deepEqual(missing, [], `tags without a chip: ${missing.join(", ")}`);

      for (const word of ["the", "a", "tea"]) {
        await page.fill("[data-testid='character-search']", word);
        await page.waitForFunction(
          (q) => document.querySelector("[data-testid='character-count']")?.textContent.includes(`“${q}”`),
          word,
        );
        await listSettled(page);
      }
      await page.fill("[data-testid='character-search']", "");
      await page.waitForFunction(
        () => !document.querySelector("[data-testid='character-count']")?.textContent.includes("“"),
      );
      await listSettled(page);
      assert.deepEqual(await chips(), first, "the chips changed (or reordered) after searching");

      await page.reload();
      await ready(page);
      await listSettled(page);
      assert.deepEqual(await chips(), first, "the chips differ on the next visit");
    },
    { needs: [GUEST] },
  );

  t.test(
    "tags: every tag filters, science, history and exploration included (16.6)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      await listSettled(page);
      // Tags of one character each in the sample catalogue (seed/characters.json).
      for (const tag of ["science", "history", "exploration"]) {
        const chip = page.locator(`${CHIPS}[data-tag='${tag}' i]`);
        await chip.click();
        await page.waitForFunction(
          (value) =>
            document
              .querySelector("[data-testid='character-count']")
              ?.textContent.toLowerCase()
              .includes(`#${value}`),
          tag,
        );
        await listSettled(page);
        const found = await page.locator(ITEM).count();
        assert.ok(found >= 1, `#${tag} shows nothing`);
        assert.equal(await chip.getAttribute("aria-pressed"), "true");
      }
    },
    { needs: [GUEST] },
  );

  t.test(
    "tags: a tag on a character tile filters the list (16.6)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      await listSettled(page);
      const tag = page.locator(`${ITEM} [data-testid='card-tag']`).first();
      const value = await tag.getAttribute("data-tag");
      await tag.click();
      await page.waitForFunction(
        (v) => document.querySelector("[data-testid='character-count']")?.textContent.includes(`#${v}`),
        value,
      );
      await listSettled(page);
      const tags = await page
        .locator(ITEM)
        .evaluateAll((els) =>
          els.map((el) => [...el.querySelectorAll("[data-testid='card-tag']")].map((a) => a.dataset.tag)),
        );
      assert.ok(tags.length >= 1);
      assert.equal(new URL(page.url()).searchParams.get("tag"), value);
    },
    { needs: [GUEST] },
  );
}

async function listSettled(page) {
  await page.waitForSelector("[data-testid='character-list'][aria-busy='false']");
  await page.waitForSelector("[data-testid='tag-filter'][aria-busy='false']");
}
