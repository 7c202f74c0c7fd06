import assert from "node:assert/strict";
import { ready, shot } from "../lib/page-helpers.mjs";

export const GENERATE_OK = "generate: the image appears when the job succeeds";
const CARD = "[data-testid='current-job-card']";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function generateScenarios(t, ctx) {
  t.test(
    GENERATE_OK,
    async () => {
      const { page } = ctx.desktop;
      ctx.prompt = `A lighthouse on a sea cliff at dusk, warm light, oil painting (${Date.now().toString(36)})`;
      const job = await submit(page, ctx.prompt, { width: 768, height: 512, steps: 20 });
      assert.ok(job.id, "the job card should carry the job id");
      await page.waitForSelector(`${CARD}[data-status='succeeded']`, { timeout: 60_000 });
      await page.waitForFunction(
        (selector) => {
          const img = document.querySelector(`${selector} [data-testid='job-image']`);
          return img?.complete && img.naturalWidth > 0;
        },
        CARD,
        { timeout: 20_000 },
      );
      const width = await page.$eval(`${CARD} [data-testid='job-image']`, (img) => img.naturalWidth);
      assert.ok(width > 0, "the generated image should load");
      await shot(page, ctx.shotsDir, "generate-desktop");
    },
    {
      needs: ["guest start: a token is stored, reused after reload, and renewed when rejected"],
      timeoutMs: 120_000,
    },
  );

  t.test(
    "generate: with the socket down, the status still arrives by polling",
    async () => {
      const { page } = ctx.desktop;
      await page.evaluate(() => window.edgeArt.socket.stop());
      try {
        await page.waitForSelector("[data-testid='connection-status'][data-state='offline']");
        const polls = [];
        const onRequest = (request) => {
          if (/\/api\/v1\/generations\/[^/]+$/.test(new URL(request.url()).pathname)) polls.push(Date.now());
        };
        page.on("request", onRequest);
        await submit(page, "A paper boat on a rain puddle, macro photo", {
          width: 512,
          height: 512,
          steps: 10,
        });
        await page.waitForSelector(`${CARD}[data-status='succeeded']`, { timeout: 60_000 });
        page.off("request", onRequest);
        assert.ok(polls.length >= 1, "expected GET /generations/:id polls while the socket was down");
      } finally {
        await page.evaluate(() => window.edgeArt.socket.start());
      }
    },
    {
      needs: ["guest start: a token is stored, reused after reload, and renewed when rejected"],
      timeoutMs: 90_000,
    },
  );

  t.test(
    "generate: a failed job is shown with its reason in words",
    async () => {
      const { page } = ctx.desktop;
      await submit(page, "A clockwork owl reading by candlelight [[emu:job=fail]]", {
        width: 512,
        height: 512,
        steps: 10,
      });
      await page.waitForSelector(`${CARD}[data-status='failed']`, { timeout: 60_000 });
      const reason = (await page.textContent(`${CARD} [data-testid='job-error']`)).trim();
      assert.match(reason, /^Why: .{8,}/, `expected a reason in words, got "${reason}"`);
      ctx.failureReason = reason;
    },
    {
      needs: ["guest start: a token is stored, reused after reload, and renewed when rejected"],
      timeoutMs: 90_000,
    },
  );

  t.test(
    "generate: Cancel stops a job that is still running",
    async () => {
      const { page } = ctx.desktop;
      await submit(page, "A city that never finishes rendering [[emu:job=hang]]", {
        width: 512,
        height: 512,
        steps: 10,
      });
      await page.click(`${CARD} [data-testid='job-cancel']`);
      await page.waitForSelector(`${CARD}[data-status='cancelled']`, { timeout: 20_000 });
      assert.equal(
        await page.isHidden(`${CARD} [data-testid='job-cancel']`),
        true,
        "Cancel should go away once cancelled",
      );
    },
    {
      needs: ["guest start: a token is stored, reused after reload, and renewed when rejected"],
      timeoutMs: 60_000,
    },
  );
}

async function submit(page, prompt, { width, height, steps }) {
  if (!page.url().endsWith("/generate")) {
    await page.goto("/generate");
    await ready(page);
  }
  const previous = await page.evaluate(
    (selector) => document.querySelector(selector)?.dataset.jobId ?? null,
    CARD,
  );
  await page.fill("[data-testid='gen-prompt']", prompt);
  await page.fill("[data-testid='gen-width']", String(width));
  await page.fill("[data-testid='gen-height']", String(height));
  const advanced = page.locator("details.disclosure--inline");
  if (!(await advanced.evaluate((el) => el.open))) await advanced.locator("summary").click();
  await page.fill("[data-testid='gen-steps']", String(steps));
  await page.click("[data-testid='gen-submit']");
  const outcome = await page.waitForFunction(
    ([selector, before]) => {
      const card = document.querySelector(selector);
      if (card?.dataset.jobId && card.dataset.jobId !== before) return { id: card.dataset.jobId };
      const error = document.querySelector("[data-testid='form-error']:not([hidden])");
      return error ? { error: error.textContent } : null;
    },
    [CARD, previous],
    { timeout: 15_000 },
  );
  const result = await outcome.jsonValue();
  if (result.error) throw new Error(`the form showed an error instead of a job: ${result.error}`);
  return result;
}
