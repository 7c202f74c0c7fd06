import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { completeReplies, ready, shot, waitForReply } from "../lib/page-helpers.mjs";

// Conversation depth (issue 13) in the browser: alternatives, continue, edit, delete from here,
// the lorebook editor, the memory panel, pictures in the thread, and chat export/import.
const GUEST = "guest start: a token is stored, reused after reload, and renewed when rejected";
const SETUP = "depth: a chat with a character of our own";
const SWIPES = "depth: regenerate adds an alternative shown as 2/2, and the arrows switch between them";
const CONTINUE = "depth: continue extends the last reply";
const EDIT = "depth: a message edited in place keeps its new text after a reload";
const DELETE = "depth: delete from here removes a message and everything after it, after confirming";
const LORE = "depth: the lorebook editor saves an entry, and the next turn's context shows it used";
const SUMMARY = "depth: the memory summary edited in the panel persists after a reload";
const PICTURE = "depth: send me a picture shows progress in the thread, then the image";
const TRANSFER = "depth: a chat exported as .jsonl and imported again has the same messages";

const LAST_ASSISTANT = "[data-testid='message'][data-role='assistant'][data-message-id]";
const MOONWELL = "The moonwell at the heart of the glade glows blue when spirits are near.";
const GLADE = "The glade is ringed by ancient oaks older than the kingdom.";
const APPEARANCE = "a young elf woman with silver hair in a loose braid, green cloak, amber eyes";

/** Calls the API with the page's own guest token. */
function api(page, path, { method = "GET", body } = {}) {
  return page.evaluate(
    async ({ path, method, body }) => {
      const response = await fetch(`/api/v1${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${localStorage.getItem("edge-art.token")}`,
          ...(body ? { "Content-Type": "application/json" } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    { path, method, body },
  );
}

/** Texts of the stored messages on screen, oldest first, as `role: content`. */
function threadTexts(page) {
  return page.$$eval("[data-testid='message'][data-message-id]", (els) =>
    els.map((el) => `${el.dataset.role}: ${el.dataset.content}`),
  );
}

async function openChat(page, chatId) {
  await page.goto(`/chats/${chatId}`);
  await ready(page);
  await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
  await page.waitForSelector("[data-testid='connection-status'][data-state='online']");
}

async function say(page, text) {
  const before = await completeReplies(page);
  await page.fill("[data-testid='chat-input']", text);
  await page.press("[data-testid='chat-input']", "Enter");
  await waitForReply(page, before);
}

/** Waits until nothing streams and the reply tools are usable again. */
async function waitIdle(page) {
  await page.waitForFunction(
    () =>
      !document.querySelector("[data-state='streaming'], [data-testid='typing']") &&
      document.querySelector("[data-testid='chat-send']:not([hidden])") &&
      document.querySelector("[data-testid='regenerate']:not([disabled])"),
    null,
    { timeout: 30_000 },
  );
}

/** @param {ReturnType<import("../lib/harness.mjs").createHarness>} t */
export function depthScenarios(t, ctx) {
  const depth = {};

  t.test(
    SETUP,
    async () => {
      const { page } = ctx.desktop;
      await page.goto("/");
      await ready(page);
      const created = await api(page, "/characters", {
        method: "POST",
        body: {
          name: "Lyra of the Glade",
          description: "A forest guardian who tends an old glade.",
          personality: "Warm, curious, a little mischievous.",
          scenario: "{{user}} wanders into Lyra's glade at dusk.",
          greeting: "Oh! A visitor. Welcome to my glade, traveller.",
        },
      });
      assert.equal(created.status, 201, `creating the character: ${JSON.stringify(created.body)}`);
      depth.character = created.body;
      const chat = await api(page, "/chats", { method: "POST", body: { character_id: created.body.id } });
      assert.equal(chat.status, 201, `creating the chat: ${JSON.stringify(chat.body)}`);
      depth.chatId = chat.body.id;
      await openChat(page, depth.chatId);
      await page.waitForSelector(LAST_ASSISTANT);
      await say(page, "Hello Lyra! What is this place?");
    },
    { needs: [GUEST] },
  );

  t.test(
    SWIPES,
    async () => {
      const { page } = ctx.desktop;
      await waitIdle(page);
      assert.equal(
        await page.locator("[data-testid='swipe-count']").count(),
        1,
        "one swipe bar, on the last reply",
      );
      const lastId = await page.locator(LAST_ASSISTANT).last().getAttribute("data-message-id");
      await page.click("[data-testid='regenerate']");
      await page.waitForFunction(
        () => document.querySelector("[data-testid='swipe-count']")?.textContent === "2/2",
        null,
        { timeout: 30_000 },
      );
      await waitIdle(page);
      const swipes = await api(page, `/chats/${depth.chatId}/messages/${lastId}/swipes`);
      assert.equal(swipes.status, 200);
      assert.equal(swipes.body.items.length, 2, "the server should keep both alternatives");
      const shown = () => page.locator(LAST_ASSISTANT).last().getAttribute("data-content");
      assert.equal(await shown(), swipes.body.items[1].content, "the new alternative is shown");

      await page.click("[data-testid='swipe-prev']");
      await page.waitForFunction(
        () => document.querySelector("[data-testid='swipe-count']")?.textContent === "1/2",
      );
      assert.equal(await shown(), swipes.body.items[0].content, "‹ shows the first alternative");
      assert.ok(
        await page.locator("[data-testid='swipe-prev']").isDisabled(),
        "no alternative before the first",
      );

      await page.click("[data-testid='swipe-next']");
      await page.waitForFunction(
        () => document.querySelector("[data-testid='swipe-count']")?.textContent === "2/2",
      );
      assert.equal(await shown(), swipes.body.items[1].content, "› goes back to the second");
      // The README's chat screen (the picture scenario retakes it with a picture in the thread).
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${ctx.shotsDir}/chat-depth-desktop.png` });
    },
    { needs: [SETUP], timeoutMs: 90_000 },
  );

  t.test(
    CONTINUE,
    async () => {
      const { page } = ctx.desktop;
      await waitIdle(page);
      const last = page.locator(LAST_ASSISTANT).last();
      const before = await last.getAttribute("data-content");
      await page.click("[data-testid='continue']");
      await page.waitForFunction(
        (length) => {
          const all = document.querySelectorAll(
            "[data-testid='message'][data-role='assistant'][data-message-id][data-state='complete']",
          );
          return (all[all.length - 1]?.dataset.content.length ?? 0) > length;
        },
        before.length,
        { timeout: 30_000 },
      );
      await waitIdle(page);
      const after = await last.getAttribute("data-content");
      assert.ok(after.startsWith(before.trimEnd()), "the continued reply keeps what it said");
      assert.ok(after.length > before.length, "and says more");
    },
    { needs: [SETUP], timeoutMs: 60_000 },
  );

  t.test(
    EDIT,
    async () => {
      const { page } = ctx.desktop;
      await waitIdle(page);
      const edited = "Hello Lyra! What is this glade, and who planted the oaks?";
      const mine = page.locator("[data-testid='message'][data-role='user'][data-message-id]").last();
      const id = await mine.getAttribute("data-message-id");
      await mine.hover();
      await mine.locator("[data-testid='edit-message']").click();
      await mine.locator("[data-testid='edit-input']").fill(edited);
      await mine.locator("[data-testid='edit-save']").click();
      await page.waitForFunction(
        ({ id, edited }) =>
          document.querySelector(`[data-message-id="${id}"]`)?.dataset.content === edited &&
          !document.querySelector(`[data-message-id="${id}"] [data-testid='edit-input']`),
        { id, edited },
      );
      await openChat(page, depth.chatId);
      const after = page.locator(`[data-message-id="${id}"]`);
      assert.equal(await after.getAttribute("data-content"), edited, "the edit is stored");
      assert.match(await after.locator(".msg__meta").textContent(), /edited/, "and marked as edited");
    },
    { needs: [SETUP] },
  );

  t.test(
    DELETE,
    async () => {
      const { page } = ctx.desktop;
      await waitIdle(page);
      const before = await threadTexts(page);
      await say(page, "Wait, forget that. Is it safe here?");
      await waitIdle(page);
      assert.equal((await threadTexts(page)).length, before.length + 2);
      const mine = page.locator("[data-testid='message'][data-role='user'][data-message-id]").last();
      await mine.hover();
      await mine.locator("[data-testid='delete-from-here']").click();
      await page.waitForSelector("[data-testid='delete-dialog']");
      await page.click("[data-testid='confirm-delete']");
      await page.waitForFunction(
        (count) => document.querySelectorAll("[data-testid='message'][data-message-id]").length === count,
        before.length,
      );
      await openChat(page, depth.chatId);
      assert.deepEqual(await threadTexts(page), before, "after a reload the chat ends where it did before");
    },
    { needs: [SETUP], timeoutMs: 60_000 },
  );

  t.test(
    LORE,
    async () => {
      const { page } = ctx.desktop;
      await page.goto(`/characters/${depth.character.id}`);
      await ready(page);
      await page.click("[data-testid='edit-character']");
      await page.waitForSelector("[data-testid='lorebook-editor']");
      assert.equal(await page.locator("[data-testid='lore-entry']").count(), 0, "no lorebook yet");
      await page.fill("[data-testid='edit-appearance']", APPEARANCE);
      await page.fill("[data-testid='lore-book-name']", "Lyra's glade");

      await page.click("[data-testid='lore-add']");
      // The first entry for good: a `.last()` locator re-resolves to the entry added next.
      const glade = page.locator("[data-testid='lore-entry']").first();
      await glade.locator("[data-testid='lore-name']").fill("The glade");
      await glade.locator("[data-testid='lore-keys-input']").fill("glade");
      await glade.locator("[data-testid='lore-keys-input']").press("Enter");
      await glade.locator("[data-testid='lore-content']").fill(GLADE);

      await page.click("[data-testid='lore-add']");
      const entry = page.locator("[data-testid='lore-entry']").last();
      await entry.locator("[data-testid='lore-name']").fill("Moonwell");
      await entry.locator("[data-testid='lore-keys-input']").fill("moonwell");
      await entry.locator("[data-testid='lore-keys-input']").press("Enter");
      await entry.locator("[data-testid='lore-keys-input']").fill("blue light");
      await entry.locator("[data-testid='lore-keys-input']").press("Enter");
      assert.equal(await entry.locator("[data-testid='lore-keys-chip']").count(), 2, "keys show as chips");
      await entry.locator("[data-testid='lore-content']").fill(MOONWELL);
      await entry.locator("[data-testid='lore-position']").selectOption("after_char");
      await entry.locator("[data-testid='lore-priority']").fill("5");
      // The first entry is switched off from its row's switch.
      await glade.locator("[data-testid='lore-toggle']").uncheck();
      await shot(page, ctx.shotsDir, "lorebook-editor-desktop");
      await page.click("[data-testid='edit-save-character']");
      await page.waitForSelector("[data-testid='character-edit'][data-saved]").catch(async (error) => {
        const toast = await page.locator("[data-testid='toast']").allTextContents();
        throw new Error(
          `the character was not saved${toast.length ? `; the page said: ${toast.join(" | ")}` : ""}`,
          {
            cause: error,
          },
        );
      });

      const stored = await api(page, `/characters/${depth.character.id}`);
      assert.equal(stored.body.appearance, APPEARANCE, "the appearance is stored");
      assert.equal(stored.body.character_book?.name, "Lyra's glade");
      const entries = stored.body.character_book?.entries ?? [];
      assert.equal(entries.length, 2);
      assert.equal(entries[0].enabled, false, "the switched-off entry is stored disabled");
      assert.deepEqual(entries[1].keys, ["moonwell", "blue light"]);
      assert.equal(entries[1].content, MOONWELL);
      assert.equal(entries[1].position, "after_char");
      assert.equal(entries[1].priority, 5);
      assert.equal(entries[1].enabled, true);

      await openChat(page, depth.chatId);
      await say(page, "I see a blue glow — is that the moonwell?");
      await page.click("[data-testid='summary-panel'] summary");
      await page.click("[data-testid='context-show']");
      await page.waitForSelector("[data-testid='lore-used']");
      const used = await page
        .locator("[data-testid='lore-used'] [data-testid='lore-entry']")
        .allTextContents();
      assert.ok(used.includes("Moonwell"), `the moonwell entry should fire, lore used: ${used.join(", ")}`);
      assert.ok(!used.includes("The glade"), "a disabled entry never fires");
      const context = await api(page, `/chats/${depth.chatId}/context`);
      assert.ok(
        context.body.messages.some((m) => m.content.includes(MOONWELL)),
        "the entry's content is in the prompt",
      );
    },
    { needs: [SETUP], timeoutMs: 60_000 },
  );

  t.test(
    SUMMARY,
    async () => {
      const { page } = ctx.desktop;
      await openChat(page, depth.chatId);
      const memory = "The traveller arrived at dusk and asked about the glade and the moonwell.";
      await page.click("[data-testid='summary-panel'] summary");
      await page.fill("[data-testid='summary-input']", memory);
      await page.click("[data-testid='summary-save']");
      await page.waitForSelector("[data-testid='summary-panel'][data-has-summary='true']");
      await openChat(page, depth.chatId);
      await page.click("[data-testid='summary-panel'] summary");
      assert.equal(await page.inputValue("[data-testid='summary-input']"), memory);
      const chat = await api(page, `/chats/${depth.chatId}`);
      assert.equal(chat.body.summary, memory);
    },
    { needs: [SETUP] },
  );

  t.test(
    PICTURE,
    async () => {
      const { page } = ctx.desktop;
      // Pictures start from the character's appearance (the lorebook scenario sets it in the editor).
      const character = await api(page, `/characters/${depth.character.id}`);
      if (!character.body.appearance) {
        const patched = await api(page, `/characters/${depth.character.id}`, {
          method: "PATCH",
          body: { appearance: APPEARANCE },
        });
        assert.equal(patched.status, 200, `setting the appearance: ${JSON.stringify(patched.body)}`);
      }
      await openChat(page, depth.chatId);
      const pictures = await page.locator("[data-testid='message-picture']").count();
      const statuses = [];
      await page.exposeFunction("__pictureStatus", (status) => statuses.push(status)).catch(() => {});
      await page.evaluate(() => {
        new MutationObserver(() => {
          for (const el of document.querySelectorAll("[data-testid='picture-pending']"))
            window.__pictureStatus?.(el.dataset.status);
        }).observe(document.querySelector("[data-testid='message-list']"), {
          subtree: true,
          childList: true,
          attributes: true,
        });
      });
      await page.click("[data-testid='picture-button']");
      await page.fill("[data-testid='picture-prompt']", "by the moonwell at night");
      await page.click("[data-testid='picture-send']");
      await page.waitForSelector("[data-testid='picture-pending']");
      await page.waitForFunction(
        (count) => {
          const images = document.querySelectorAll("[data-testid='message-picture'] img");
          return (
            images.length > count &&
            images[images.length - 1].complete &&
            images[images.length - 1].naturalWidth > 0
          );
        },
        pictures,
        { timeout: 60_000 },
      );
      assert.equal(
        await page.locator("[data-testid='picture-pending']").count(),
        0,
        "the placeholder gives way",
      );
      assert.ok(statuses.length > 0, "the placeholder showed the job's progress");
      const messages = await api(page, `/chats/${depth.chatId}/messages?limit=5`);
      const withPicture = messages.body.items.find((m) => m.attachments?.length);
      assert.ok(withPicture, "a stored message carries the picture");
      assert.equal(withPicture.role, "assistant");
      const job = await api(page, `/generations/${withPicture.attachments[0].job_id}`);
      assert.equal(job.body.chat_id, depth.chatId, "the job is linked to the chat");
      assert.ok(job.body.prompt.endsWith("by the moonwell at night"), `the prompt: ${job.body.prompt}`);
      // A picture is the whole reply: no Regenerate or Continue on it.
      const lastReply = page.locator(LAST_ASSISTANT).last();
      assert.equal(await lastReply.locator("[data-testid='message-picture']").count(), 1);
      assert.equal(
        await lastReply.locator("[data-testid='regenerate']").count(),
        0,
        "no Regenerate on a picture",
      );
      await page.locator(LAST_ASSISTANT).last().scrollIntoViewIfNeeded();
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${ctx.shotsDir}/chat-depth-desktop.png` });
    },
    { needs: [SETUP], timeoutMs: 90_000 },
  );

  t.test(
    TRANSFER,
    async () => {
      const { page } = ctx.desktop;
      await openChat(page, depth.chatId);
      const original = await threadTexts(page);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click("[data-testid='export-chat']"),
      ]);
      const file = await download.path();
      const lines = (await readFile(file, "utf8")).trim().split("\n");
      assert.ok(lines.length >= 2, "a header line and the messages");
      assert.ok("mes" in JSON.parse(lines[1]), "SillyTavern's message lines");

      await page.goto(`/characters/${depth.character.id}`);
      await ready(page);
      await page.setInputFiles("[data-testid='import-chat-input']", file);
      await page.waitForURL(
        (url) => /\/chats\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith(depth.chatId),
        {
          timeout: 20_000,
        },
      );
      await page.waitForSelector("[data-testid='message-list'][aria-busy='false']");
      await page.waitForSelector("[data-testid='message'][data-message-id]");
      assert.deepEqual(await threadTexts(page), original, "the imported chat has the same messages");
    },
    { needs: [SETUP], timeoutMs: 60_000 },
  );
}
