import assert from "node:assert/strict";
import { completeReplies, ready, waitForReply } from "../lib/page-helpers.mjs";
import { CHAT_STREAM } from "./chat.mjs";

const GUEST = "guest start: a token is stored, reused after reload, and renewed when rejected";

/**
 * A new chat with the `index`-th popular character, made through the API as the signed-in
 * guest, and its row in the list once the page shows it.
 * @param {import("playwright-core").Page} page
 */
async function freshChatRow(page, index) {
  const chat = await page.evaluate(async (i) => {
    const token = localStorage.getItem("edge-art.token");
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const { items } = await (await fetch("/api/v1/characters/popular?limit=3", { headers })).json();
    const response = await fetch("/api/v1/chats", {
      method: "POST",
      headers,
      body: JSON.stringify({ character_id: items[i].id }),
    });
    return response.json();
  }, index);
  assert.ok(chat.id, `could not create a chat: ${JSON.stringify(chat)}`);
  await page.reload();
  await ready(page);
  const row = page.locator(`[data-testid='chat-item'][data-chat-id='${chat.id}']`);
  await row.waitFor();
  return { chat, row };
}

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function chatListScenarios(t, ctx) {
  t.test(
    "chat list: a row shows when its last message was sent, kept current while chatting (16.7)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto(ctx.chatUrl);
      await ready(page);
      await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
      await page.waitForSelector("[data-testid='connection-status'][data-state='online']");
      const chatId = new URL(ctx.chatUrl).pathname.split("/").pop();
      const row = `[data-testid='chat-list'] [data-chat-id='${chatId}']`;
      await page.waitForSelector(row);
      const before = await completeReplies(page);
      await page.fill("[data-testid='chat-input']", "One more thing before I go.");
      await page.press("[data-testid='chat-input']", "Enter");
      await waitForReply(page, before);
      const newest = await page.evaluate(() =>
        [...document.querySelectorAll("[data-testid='message'][data-created-at]")]
          .map((el) => el.dataset.createdAt)
          .sort()
          .at(-1),
      );
      await page.waitForFunction(
        ([selector, iso]) => document.querySelector(`${selector} time`)?.getAttribute("datetime") === iso,
        [row, newest],
        { timeout: 5_000 },
      );
      assert.match(await page.textContent(`${row} time`), /now/);
    },
    { needs: [CHAT_STREAM], timeoutMs: 90_000 },
  );

  t.test(
    "chat list: a chat can be deleted from the list (16.7)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/chats");
      await ready(page);
      const { chat, row } = await freshChatRow(page, 2);
      await row.locator("[data-testid='delete-chat']").click();
      await page.locator("[data-testid='confirm-delete']").click();
      await row.waitFor({ state: "detached", timeout: 10_000 });
      const status = await page.evaluate(
        async (id) =>
          (
            await fetch(`/api/v1/chats/${id}`, {
              headers: { Authorization: `Bearer ${localStorage.getItem("edge-art.token")}` },
            })
          ).status,
        chat.id,
      );
      assert.equal(status, 404, "the chat should be gone on the server too");
      await page.reload();
      await ready(page);
      await page.waitForSelector("[data-testid='chat-list'][aria-busy='false']");
      assert.equal(await row.count(), 0);
    },
    { needs: [CHAT_STREAM] },
  );

  t.test(
    "chat list: a chat can be renamed in place, and keeps its name after a reload (16.7)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/chats");
      await ready(page);
      const { row } = await freshChatRow(page, 1);
      await row.locator("[data-testid='rename-chat']").click();
      const input = row.locator("[data-testid='rename-chat-input']");
      await input.fill("Case of the missing lighthouse");
      await input.press("Enter");
      await input.waitFor({ state: "detached", timeout: 10_000 });
      await row.locator(".chat-row__title", { hasText: "Case of the missing lighthouse" }).waitFor();
      await page.reload();
      await ready(page);
      await page.waitForSelector("[data-testid='chat-list'][aria-busy='false']");
      await row.locator(".chat-row__title", { hasText: "Case of the missing lighthouse" }).waitFor();
    },
    { needs: [CHAT_STREAM] },
  );

  t.test(
    "small things: a chat that doesn't exist offers no message box (16.11)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/chats/cht_does_not_exist");
      await ready(page);
      await page.waitForSelector("[data-testid='chat-missing']", { timeout: 10_000 });
      assert.equal(await page.isVisible("[data-testid='chat-input']"), false);
      assert.match(await page.title(), /not found/i);
    },
    { needs: [GUEST] },
  );

  t.test(
    "small things: chat counts are written the same way on the tile and the character page (16.11)",
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      const tile = page.locator("[data-testid='popular-item']").first();
      await tile.waitFor();
      const onTile = (await tile.locator(".char-card__count").textContent()).trim();
      await tile.locator("a").first().click();
      await page.waitForSelector("[data-testid='character-name']");
      const meta = (await page.textContent(".character__meta")).trim();
      assert.ok(
        meta.startsWith(onTile),
        `the tile says "${onTile}", the character page "${meta.split(" · ")[0]}"`,
      );
    },
    { needs: [GUEST] },
  );
}
