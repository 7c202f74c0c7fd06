import { h, icon } from "./dom.js";

/**
 * Toasts for problems and confirmations that don't belong to one form. Errors go into an
 * `role="alert"` region (announced at once), confirmations into a polite live region.
 */

const AUTO_DISMISS_MS = 6000;

/**
 * @example
 * notify("Card imported", { tone: "success" })
 * @param {string} message
 * @param {{tone?: "error" | "success" | "info", timeout?: number}} [options]
 */
export function notify(message, { tone = "info", timeout = AUTO_DISMISS_MS } = {}) {
  const region = document.getElementById(tone === "error" ? "alerts" : "status-messages");
  if (!region) return;
  const toast = h(
    "div",
    { class: `toast toast--${tone}`, "data-testid": "toast", "data-tone": tone },
    h("span", { class: "toast__text" }, message),
    h(
      "button",
      { type: "button", class: "toast__close", "aria-label": "Dismiss", onclick: () => toast.remove() },
      icon("close"),
    ),
  );
  region.append(toast);
  if (region.children.length > 3) region.firstElementChild.remove();
  if (timeout > 0) setTimeout(() => toast.remove(), timeout);
}

/** Shows an error (an ApiError or anything thrown) as words. */
export function notifyError(error) {
  notify(error?.message ?? String(error), { tone: "error", timeout: 9000 });
}
