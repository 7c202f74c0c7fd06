import { getUser } from "../api.js";
import { h, icon, replace } from "../dom.js";

/**
 * The account entry in the top bar: "Save your chats" for a guest (a passkey keeps them), the
 * account's name otherwise; both lead to the settings page. Follows `edge-art:user` changes.
 * @param {HTMLElement} slot
 */
export function mountAccountLink(slot) {
  const render = (user = getUser()) => {
    if (!user) {
      replace(slot);
      return;
    }
    const guest = user.kind !== "account";
    replace(
      slot,
      h(
        "a",
        {
          href: "/settings",
          class: ["account-link", guest && "account-link--cta"],
          "data-nav": "/settings",
          "data-testid": guest ? "save-chats-cta" : "account-link",
          title: guest ? "Save your chats: add a passkey" : "Settings",
          "aria-label": guest
            ? "Save your chats: add a passkey"
            : `Settings (${user.display_name || "account"})`,
        },
        icon(guest ? "key" : "user"),
        h(
          "span",
          { class: "account-link__text" },
          guest ? "Save your chats" : user.display_name || "Account",
        ),
      ),
    );
  };
  window.addEventListener("edge-art:user", (event) => render(event.detail));
  window.addEventListener("edge-art:signed-out", () => render(null));
  render();
}
