import assert from "node:assert/strict";
import path from "node:path";
import { renderImage } from "../../../emulator/runpod/png.mjs";
import { ready } from "../lib/page-helpers.mjs";

const IMPORT_PNG = "import: a PNG character card becomes a character";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function importScenarios(t, ctx) {
  t.test(
    IMPORT_PNG,
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
      ctx.importedUrl = page.url();
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

  t.test(
    "import: line breaks in the card's text are kept on the character page (16.3)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto(ctx.importedUrl);
      await ready(page);
      const about = page.locator("details.disclosure").first().locator(".disclosure__body");
      await about.waitFor();
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered lines are the point here
      const text = await about.evaluate((el) => el.innerText);
      assert.match(
        text,
        /"graceful"\]\s*\n\s*\[Seraphina's body/,
        `the card's lines were run together: ${JSON.stringify(text.slice(0, 400))}`,
      );
    },
    { needs: [IMPORT_PNG] },
  );

  t.test(
    "import: importing the same card again says so and offers the existing one (16.3)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      const card = path.join(ctx.root, "test/fixtures/cards/seraphina.png");
      await page.setInputFiles("[data-testid='import-card-input']", card);
      const dialog = page.locator("[data-testid='duplicate-card']");
      await dialog.waitFor({ state: "visible", timeout: 15_000 });
      assert.match(await dialog.textContent(), /already/i);
      await dialog.locator("[data-testid='open-existing']").click();
      await page.waitForURL(ctx.importedUrl, { timeout: 10_000 });
    },
    { needs: [IMPORT_PNG] },
  );

  t.test(
    "import: files that aren't cards get an error written for people (16.3)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      const files = [
        {
          name: "logo.svg",
          mimeType: "image/svg+xml",
          buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'),
        },
        {
          name: "holiday.png",
          mimeType: "image/png",
          buffer: renderImage({ prompt: "a beach", seed: 1, width: 64, height: 64 }),
        },
        {
          name: "broken-card.json",
          mimeType: "application/json",
          buffer: Buffer.from('{"spec": "chara_card_v2", "data": {"name": "Half'),
        },
      ];
      for (const file of files) {
        const before = await page.locator("[data-testid='toast'][data-tone='error']").count();
        await page.setInputFiles("[data-testid='import-card-input']", file);
        const toast = page.locator("[data-testid='toast'][data-tone='error']").nth(before);
        await toast.waitFor({ timeout: 10_000 });
        const text = (await toast.locator(".toast__text").textContent()).trim();
        assert.ok(text.includes(file.name), `${file.name}: the message should name the file: "${text}"`);
        assert.doesNotMatch(
          text,
          /chunk|ccv3|\bchara\b|valid JSON|\bspec\b|V2/i,
          `${file.name}: jargon in "${text}"`,
        );
        assert.match(text, /^[A-Z“"].*[.!]$/s, `${file.name}: not a whole sentence: "${text}"`);
        await toast.locator(".toast__close").click();
      }
      assert.ok(!/\/characters\//.test(page.url()), "nothing should have been imported");
    },
    { needs: ["guest start: a token is stored, reused after reload, and renewed when rejected"] },
  );
}
