import { request } from "../api.js";
import { describeExhausted, describeWait, rememberLimit } from "../credits.js";
import { socket } from "../ws.js";

/**
 * "Credits left today" in the header, from `GET /me/usage`: refreshed after every reply
 * (`chat.done`), every generation update and every `budget_exhausted` error, and when the tab
 * comes back into view.
 */

/**
 * Mounts the badge into `container` and keeps it current.
 * @param {HTMLElement} container
 */
export function mountCreditsBadge(container) {
  const badge = document.createElement("p");
  badge.className = "credits";
  badge.dataset.testid = "credits";
  badge.setAttribute("role", "status");
  badge.hidden = true;
  container.append(badge);

  const refresh = async () => {
    try {
      const usage = await request("/me/usage");
      rememberLimit(usage.credits.limit);
      const left = usage.credits.remaining;
      const wait = (Date.parse(usage.resets_at) - Date.now()) / 1000;
      badge.hidden = false;
      badge.dataset.state = left > 0 ? "ok" : "exhausted";
      badge.textContent = left > 0 ? `${left} credits left` : "No credits left";
      badge.title =
        left > 0
          ? `${usage.credits.used} of ${usage.credits.limit} credits used today; they reset in ${describeWait(wait)}.`
          : describeExhausted(usage.credits.limit, wait);
    } catch {
      // Figures are a convenience; the header stays as it was.
    }
  };
  for (const type of ["chat.done", "generation.updated", "error"]) socket.addEventListener(type, refresh);
  window.addEventListener("edge-art:spent", refresh);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
  refresh();
  return refresh;
}
