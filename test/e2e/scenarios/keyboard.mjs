import assert from "node:assert/strict";
import { ready } from "../lib/page-helpers.mjs";
import { CHAT_STREAM } from "./chat.mjs";

// A chat of its own (made by the first scenario here), so the README's chat screenshot stays clean.
export const START_CHAT = "keyboard: after Start chat, typing goes into the message box (16.5)";
const GUEST = "guest start: a token is stored, reused after reload, and renewed when rejected";
const STREAMING = "[data-testid='message'][data-role='assistant'][data-state='streaming']";

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function keyboardScenarios(t, ctx) {
  t.test(
    START_CHAT,
    async () => {
      const { page } = ctx.desktop;
      await page.goto(ctx.characterUrl);
      await ready(page);
      await page.focus("[data-testid='start-chat']");
      await page.keyboard.press("Enter");
      await page.waitForURL(/\/chats\/[^/]+$/);
      await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
      await page.keyboard.type("Hi there");
      assert.equal(
        await page.evaluate(() => document.activeElement?.dataset.testid ?? document.activeElement?.tagName),
        "chat-input",
      );
      assert.equal(await page.inputValue("[data-testid='chat-input']"), "Hi there");
      ctx.keyboardChatUrl = page.url();
    },
    { needs: [CHAT_STREAM] },
  );

  t.test(
    "keyboard: Enter during a reply shows a hint, Escape stops it, focus stays in the box (16.5)",
    async () => {
      const { page } = ctx.desktop;
      const input = "[data-testid='chat-input']";
      await openChat(page, ctx.keyboardChatUrl);
      await page.fill(input, "Tell me a long story, please. [[emu:tokens=600]]");
      await page.press(input, "Enter");
      await page.waitForSelector(STREAMING, { timeout: 20_000 });
      await page.keyboard.type("And then?");
      await page.keyboard.press("Enter");
      const hint = page.locator("[data-testid='composer-hint']");
      await hint.waitFor({ state: "visible", timeout: 3_000 });
      assert.match(await hint.textContent(), /Esc/);
      assert.equal(await page.inputValue(input), "And then?", "the typed text must stay in the box");
      await page.keyboard.press("Escape");
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll("[data-testid='message'][data-role='assistant']")]
            .at(-1)
            ?.querySelector(".msg__meta")
            ?.textContent.includes("Stopped") &&
          !document.querySelector("[data-state='streaming'], [data-testid='typing']"),
        null,
        { timeout: 10_000 },
      );
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "chat-input");
    },
    { needs: [START_CHAT] },
  );

  t.test(
    "keyboard: Stop pressed from the keyboard leaves focus on the message box (16.5)",
    async () => {
      const { page } = ctx.desktop;
      const input = "[data-testid='chat-input']";
      await openChat(page, ctx.keyboardChatUrl);
      await page.fill(input, "Another story, if you will. [[emu:tokens=600]]");
      await page.press(input, "Enter");
      await page.waitForSelector(STREAMING, { timeout: 20_000 });
      await page.focus("[data-testid='chat-stop']");
      await page.keyboard.press("Enter");
      await page.waitForFunction(
        () => !document.querySelector("[data-state='streaming'], [data-testid='typing']"),
        null,
        { timeout: 10_000 },
      );
      assert.equal(
        await page.evaluate(() => document.activeElement?.dataset.testid ?? document.activeElement?.tagName),
        "chat-input",
      );
    },
    { needs: [START_CHAT] },
  );

  t.test(
    "keyboard: Tab reaches search before the popular cards, whose focus ring is not clipped (16.5)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      await page.waitForSelector("[data-testid='popular-item']");
      await page.evaluate(() => document.activeElement?.blur());
      const order = [];
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press("Tab");
        const where = await page.evaluate(() => {
          const el = document.activeElement;
          if (el?.dataset.testid === "character-search") return "search";
          if (el?.closest("[data-testid='popular-item']")) return "popular";
          return el?.dataset.testid ?? el?.tagName;
        });
        order.push(where);
        if (where === "search" || where === "popular") break;
      }
      assert.equal(order.at(-1), "search", `Tab went ${order.join(" → ")}`);

      // On to the first popular card, from the keyboard (so it gets the keyboard focus ring): the
      // whole ring must be inside every ancestor that clips.
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press("Tab");
        if (await page.evaluate(() => document.activeElement?.closest("[data-testid='popular-item']"))) break;
      }
      const clipped = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el?.closest("[data-testid='popular-item']")) return "Tab never reached a popular card";
        if (el !== document.querySelector("[data-testid='popular-item'] a")) return "not the first card";
        // The ring is the element's own outline, or its ::after's when that draws it over the tile.
        const own = getComputedStyle(el);
        const after = getComputedStyle(el, "::after");
        const [style, box] =
          own.outlineStyle !== "none"
            ? [own, el.getBoundingClientRect()]
            : after.outlineStyle !== "none"
              ? [after, el.offsetParent.getBoundingClientRect()]
              : [null, null];
        if (!style) return "no visible focus ring";
        const grow = Number.parseFloat(style.outlineWidth) + Number.parseFloat(style.outlineOffset);
        const ring = {
          top: box.top - grow,
          left: box.left - grow,
          bottom: box.bottom + grow,
          right: box.right + grow,
        };
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
          const s = getComputedStyle(a);
          if (s.overflowX === "visible" && s.overflowY === "visible") continue;
          const b = a.getBoundingClientRect();
          if (ring.top < b.top || ring.left < b.left || ring.bottom > b.bottom || ring.right > b.right)
            return `${a.className}: ring ${JSON.stringify(ring)} vs box ${JSON.stringify(b)}`;
        }
        return "";
      });
      assert.equal(clipped, "", "the focus ring is clipped");
    },
    { needs: [GUEST] },
  );
}

async function openChat(page, url) {
  await page.goto(url);
  await ready(page);
  await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
  await page.waitForSelector("[data-testid='connection-status'][data-state='online']");
}
