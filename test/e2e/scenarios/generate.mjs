import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { openPage, PHONE } from "../lib/browser.mjs";
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

  t.test(
    "generate: the live status reads Generating while the job runs (16.1)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/generate");
      await ready(page);
      await page.evaluate(() => {
        window.__badges = [];
        const box = document.querySelector("[data-testid='current-job']");
        new MutationObserver(() => {
          const card = box.querySelector("[data-testid='current-job-card']");
          const text = card?.querySelector(".job__state")?.textContent.trim();
          const entry = `${card?.dataset.jobId}:${text}`;
          if (card && window.__badges.at(-1) !== entry) window.__badges.push(entry);
        }).observe(box, { subtree: true, childList: true, characterData: true, attributes: true });
      });
      const job = await submit(page, "A glass greenhouse in the snow, morning light", {
        width: 512,
        height: 512,
        steps: 10,
      });
      await page.waitForSelector(`${CARD}[data-status='succeeded']`, { timeout: 60_000 });
      const seen = (await page.evaluate(() => window.__badges))
        .filter((entry) => entry.startsWith(`${job.id}:`))
        .map((entry) => entry.slice(job.id.length + 1));
      assert.ok(seen.includes("Generating"), `the badge went ${seen.join(" → ")}`);
    },
    { needs: [GENERATE_OK], timeoutMs: 90_000 },
  );

  t.test(
    "small things: the Create page doesn't move on submit, and the job timer stays on one line (16.11)",
    async () => {
      // On a phone too: there the form and the results share one column.
      const phone = await openPage(ctx.browser, PHONE, { baseUrl: ctx.baseUrl, token: ctx.token });
      try {
        for (const page of [ctx.desktop.page, phone.page]) await submitWithoutJump(page);
      } finally {
        await phone.context.close();
      }
    },
    { needs: [GENERATE_OK], timeoutMs: 120_000 },
  );

  async function submitWithoutJump(page) {
    {
      await page.goto("/generate");
      await ready(page);
      await page.waitForSelector("[data-testid='recent-jobs'][aria-busy='false']");
      // Where things on screen are (viewport tops); what is scrolled out of view may move.
      const where = () =>
        page.evaluate(() => {
          const tops = {};
          const parts = {
            form: "[data-testid='generate-form']",
            submit: "[data-testid='gen-submit']",
            results: "#results-heading",
            first: "[data-testid='recent-jobs'] > li",
          };
          for (const [name, selector] of Object.entries(parts)) {
            const top = document.querySelector(selector)?.getBoundingClientRect().top;
            if (top !== undefined && top >= 0 && top < window.innerHeight) tops[name] = Math.round(top);
          }
          return tops;
        });
      await page.evaluate(() => {
        const watch = () =>
          window.__moves?.push(
            Math.round(document.querySelector("[data-testid='gen-submit']").getBoundingClientRect().top),
          );
        new MutationObserver(watch).observe(document.querySelector("main"), {
          subtree: true,
          childList: true,
          attributes: true,
        });
      });
      // Everything filled in and the button on screen first, so only the submit itself can move things.
      const previous = await page.evaluate(
        (selector) => document.querySelector(selector)?.dataset.jobId ?? "",
        CARD,
      );
      await page.fill("[data-testid='gen-prompt']", "A tower that never finishes [[emu:job=hang]]");
      await page.fill("[data-testid='gen-width']", "512");
      await page.fill("[data-testid='gen-height']", "512");
      // Mid-screen, clear of the phone's tab bar, so the click itself needs no scrolling.
      await page.$eval("[data-testid='gen-submit']", (el) => el.scrollIntoView({ block: "center" }));
      await page.waitForTimeout(300);
      const before = await where();
      await page.evaluate(() => {
        window.__moves = [];
      });
      await page.click("[data-testid='gen-submit']");
      await page.waitForFunction(
        ([selector, old]) => {
          const id = document.querySelector(selector)?.dataset.jobId;
          return id && id !== old;
        },
        [CARD, previous],
      );
      await page.waitForTimeout(500);
      const after = await where();
      const moves = await page.evaluate(() => window.__moves);
      const width = await page.evaluate(() => window.innerWidth);
      // What the user is working with must stay put; new results may push older ones down.
      const moved = ["form", "submit"].filter((name) => name in before && after[name] !== before[name]);
      assert.deepEqual(
        moved,
        [],
        `(${width} px) things on screen moved when the job was submitted: ${JSON.stringify({ before, after })}`,
      );
      const spread = Math.max(...moves) - Math.min(...moves);
      assert.ok(spread <= 1, `(${width} px) the Generate button jumped by ${spread} px meanwhile`);

      await clockOnOneLine(page, width);
      // The gallery's grid has the narrowest cards.
      const jobId = await page.evaluate((selector) => document.querySelector(selector).dataset.jobId, CARD);
      await page.goto("/gallery");
      await ready(page);
      await page.waitForSelector(`[data-job-id='${jobId}'] .job__time[data-since]`, { state: "attached" });
      // (Small screens hide the grid's clocks; then there is nothing to wrap.)
      await clockOnOneLine(page, width, { required: width > 720 });
      await page.click(`[data-job-id='${jobId}'] [data-testid='job-cancel']`);
      await page.waitForSelector(`[data-job-id='${jobId}'][data-status='cancelled']`, { timeout: 20_000 });
    }
  }

  t.test(
    "small things: over the limit of images in progress, the message says the limit (16.11)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/generate");
      await ready(page);
      // Fill the allowance with jobs that never finish, then ask for one more from the form.
      const ids = await page.evaluate(async () => {
        const token = localStorage.getItem("edge-art.token");
        const ids = [];
        for (let i = 0; i < 12 && ids.length < 50; i++) {
          const response = await fetch("/api/v1/generate", {
            method: "POST",
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
            body: JSON.stringify({
              prompt: `filler ${i} [[emu:job=hang]]`,
              width: 256,
              height: 256,
              steps: 1,
            }),
          });
          if (response.status === 429 && (await response.json()).code === "quota_exceeded") break;
          if (response.ok) ids.push((await response.json()).id);
          else await new Promise((resolve) => setTimeout(resolve, 500));
        }
        return ids;
      });
      try {
        await page.fill("[data-testid='gen-prompt']", "One too many");
        await page.click("[data-testid='gen-submit']");
        const error = page.locator("[data-testid='form-error']:not([hidden])");
        await error.waitFor({ timeout: 10_000 });
        const text = await error.textContent();
        const limit = /MAX_ACTIVE_JOBS_PER_USER\s*=\s*"(\d+)"/.exec(
          readFileSync(path.join(ctx.root, "wrangler.toml"), "utf8"),
        )[1];
        assert.match(text, new RegExp(`\\b${limit}\\b`), `the limit (${limit}) should be named: "${text}"`);
      } finally {
        await page.evaluate(async (list) => {
          const token = localStorage.getItem("edge-art.token");
          for (const id of list)
            await fetch(`/api/v1/generations/${id}/cancel`, {
              method: "POST",
              headers: { Authorization: `Bearer ${token}` },
            });
        }, ids);
      }
    },
    { needs: [GENERATE_OK] },
  );

  t.test(
    'small things: "Create image" from a character shows the chosen character (16.11)',
    async () => {
      const { page } = ctx.desktop;
      await page.goto(ctx.characterUrl ?? "/");
      await ready(page);
      if (!ctx.characterUrl) await page.locator("[data-testid='popular-item'] a").first().click();
      const name = (await page.textContent("[data-testid='character-name']")).trim();
      await page.click("[data-testid='create-image-for']");
      await page.waitForURL(/\/generate\?character=/);
      const select = page.locator("[data-testid='gen-character']");
      await page.waitForFunction(
        () => document.querySelector("[data-testid='gen-character']")?.value !== "",
        null,
        { timeout: 10_000 },
      );
      await page.waitForTimeout(300);
      assert.ok(await select.isVisible(), "the chosen character is hidden");
      const chosen = await select.evaluate((el) => el.selectedOptions[0]?.textContent ?? "");
      assert.equal(chosen.trim(), name);
      // Not tucked away: it is seen without opening the advanced settings.
      assert.equal(await select.evaluate((el) => Boolean(el.closest("details"))), false);
    },
    { needs: [GENERATE_OK] },
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

/** Sets every running clock on the page to the longest it gets, and checks it stays on its badge's line. */
async function clockOnOneLine(page, width, { required = true } = {}) {
  await page.evaluate(() => {
    for (const clock of document.querySelectorAll(".job__time[data-since]"))
      clock.dataset.since = new Date(Date.now() - (59 * 60 + 59) * 1000).toISOString();
  });
  await page.waitForTimeout(1300);
  const wraps = await page.evaluate(() =>
    [...document.querySelectorAll(".job__status")]
      .filter((status) => status.querySelector(".job__time[data-since]")?.getClientRects().length)
      .map((status) => {
        const badge = status.querySelector(".badge").getBoundingClientRect();
        const time = status.querySelector(".job__time");
        const rects = time.getClientRects();
        return {
          text: time.textContent,
          lines: rects.length,
          offset: Math.abs(rects[0].top - badge.top) > badge.height ? 1 : 0,
        };
      }),
  );
  if (required) assert.ok(wraps.length >= 1, `(${width} px) no running job's clock on ${page.url()}`);
  for (const wrap of wraps) {
    assert.equal(wrap.lines, 1, `(${width} px) "${wrap.text}" wraps`);
    assert.equal(wrap.offset, 0, `(${width} px) "${wrap.text}" sits on another line than the badge`);
  }
}
