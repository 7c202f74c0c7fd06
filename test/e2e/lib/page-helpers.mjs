import { mkdirSync } from "node:fs";
import path from "node:path";

export const TOKEN_KEY = "edge-art.token";

/** Waits until the client has a session (guest token checked or created) and mounted a view. */
export async function ready(page) {
  await page.waitForSelector("body[data-session='ready']", { timeout: 20_000 });
}

export function storedToken(page) {
  return page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);
}

/** Waits until nothing on the page is marked busy and every image on screen has loaded (lazy ones below stay unloaded). */
export async function settle(page, { timeout = 15_000 } = {}) {
  await page.waitForFunction(
    () => !document.querySelector("[aria-busy='true']") && [...document.images].every((img) => img.complete),
    null,
    { timeout },
  );
  await page.waitForTimeout(250);
}

/** Saves a screenshot of the viewport to `docs/screenshots/<name>.png`. */
export async function shot(page, dir, name) {
  mkdirSync(dir, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await settle(page).catch(() => {});
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/** Records every text length an assistant bubble had while streaming (for the partial-render check). */
export function watchStreaming(page) {
  return page.evaluate(() => {
    window.__streamed = [];
    const list = document.querySelector("[data-testid='message-list']");
    const observer = new MutationObserver(() => {
      for (const el of list.querySelectorAll("[data-role='assistant'][data-state='streaming']")) {
        const length = el.querySelector(".bubble__text")?.textContent.length ?? 0;
        if (length > 0) window.__streamed.push(length);
      }
    });
    observer.observe(list, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/** Counts assistant messages that are complete. */
export function completeReplies(page) {
  return page.locator("[data-testid='message'][data-role='assistant'][data-state='complete']").count();
}

/** Waits for one more complete reply than `before`, with nothing still streaming. */
export async function waitForReply(page, before, timeout = 30_000) {
  await page.waitForFunction(
    (count) =>
      document.querySelectorAll("[data-testid='message'][data-role='assistant'][data-state='complete']")
        .length > count && !document.querySelector("[data-state='streaming'], [data-testid='typing']"),
    before,
    { timeout },
  );
}
