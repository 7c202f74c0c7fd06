import { request } from "../api.js";
import { addPasskey, passkeysSupported, signOut } from "../auth.js";
import { h, icon, replace } from "../dom.js";
import { timeAgo } from "../format.js";
import { notify, notifyError } from "../notify.js";
import { signInButton } from "./passkey-sign-in.js";

/**
 * The account card at the top of the settings page: for a guest, "Save your chats: add a
 * passkey" (and sign in with one made elsewhere); for an account, who is signed in.
 * @param {object | null} user
 */
export function passkeyCard(user) {
  if (user?.kind === "account") {
    return h(
      "section",
      { class: "card settings__card settings__account", "data-testid": "account-card" },
      h(
        "div",
        { class: "settings__row-main" },
        h("p", { class: "settings__row-title" }, `Signed in as ${user.display_name ?? "you"}`),
        h("p", { class: "muted settings__row-meta" }, "Your chats are saved to your account."),
      ),
      h(
        "button",
        { type: "button", class: "btn btn--secondary", "data-testid": "sign-out", onclick: () => signOut() },
        "Sign out",
      ),
    );
  }
  const add = h(
    "button",
    {
      type: "button",
      class: "btn btn--primary",
      "data-testid": "add-passkey",
      disabled: !passkeysSupported(),
      onclick: async () => {
        add.disabled = true;
        add.classList.add("is-busy");
        try {
          await addPasskey();
          notify("Passkey added — your chats are saved. Sign in with it on any device.", { tone: "success" });
          // Redraw the page as an account (the route is unchanged, so re-render it in place).
          window.dispatchEvent(new PopStateEvent("popstate"));
        } catch (error) {
          notifyError(error);
        } finally {
          add.disabled = false;
          add.classList.remove("is-busy");
        }
      },
    },
    icon("key"),
    "Add a passkey",
  );
  return h(
    "section",
    { class: "card settings__card settings__save", "data-testid": "save-chats" },
    h("h2", { class: "settings__save-title" }, icon("key"), "Save your chats: add a passkey"),
    h(
      "p",
      { class: "settings__hint" },
      "Right now everything you make lives only in this browser. Add a passkey — your fingerprint, face or device PIN — to keep your chats and sign in on other devices. No password, no email.",
    ),
    passkeysSupported() ? null : h("p", { class: "field__error" }, "This browser can't use passkeys."),
    h(
      "div",
      { class: "settings__actions settings__actions--start" },
      add,
      h("span", { class: "muted" }, "Already have one?"),
      signInButton({ tone: "ghost" }),
    ),
  );
}

/** The account's passkeys, each deletable (the server keeps the last one: 409). */
export function passkeyList() {
  const list = h("ul", { class: "settings__list", "data-testid": "passkey-list", "aria-busy": "true" });
  const load = async () => {
    list.setAttribute("aria-busy", "true");
    try {
      const { items } = await request("/me/passkeys");
      replace(
        list,
        items.length
          ? items.map((passkey) => row(passkey, load))
          : h("li", { class: "empty" }, "No passkeys yet."),
      );
    } catch (error) {
      replace(list, h("li", { class: "empty" }, error.message));
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  };
  load();
  const another = h(
    "button",
    {
      type: "button",
      class: "btn btn--secondary btn--sm",
      "data-testid": "add-another-passkey",
      onclick: async () => {
        another.disabled = true;
        try {
          await addPasskey();
          notify("Passkey added.", { tone: "success" });
          load();
        } catch (error) {
          notifyError(error);
        } finally {
          another.disabled = false;
        }
      },
    },
    icon("key"),
    "Add another",
  );
  return h(
    "section",
    { class: "section" },
    h(
      "h2",
      { class: "section__title" },
      icon("key"),
      "Passkeys",
      h("span", { class: "section__aside" }, another),
    ),
    list,
  );
}

function row(passkey, reload) {
  const remove = async () => {
    try {
      await request(`/me/passkeys/${encodeURIComponent(passkey.id)}`, { method: "DELETE" });
      notify("Passkey deleted.", { tone: "success" });
      reload();
    } catch (error) {
      if (error.code === "conflict") {
        notify("That's your only passkey: add another before deleting it, or you couldn't sign in again.", {
          tone: "error",
        });
      } else {
        notifyError(error);
      }
    }
  };
  return h(
    "li",
    { class: "settings__row", "data-testid": "passkey" },
    h(
      "div",
      { class: "settings__row-main" },
      h("p", { class: "settings__row-title" }, passkey.name || "Passkey"),
      h(
        "p",
        { class: "muted settings__row-meta" },
        `Added ${timeAgo(passkey.created_at)}${passkey.last_used_at ? ` · last used ${timeAgo(passkey.last_used_at)}` : ""}`,
      ),
    ),
    h(
      "button",
      {
        type: "button",
        class: "btn btn--ghost btn--sm",
        "data-testid": "delete-passkey",
        "aria-label": `Delete passkey ${passkey.name || ""}`.trim(),
        onclick: remove,
      },
      icon("trash"),
    ),
  );
}
