import { continueAsGuest } from "../auth.js";
import { signInButton } from "../components/passkey-sign-in.js";
import { h } from "../dom.js";
import { notifyError } from "../notify.js";

const REASONS = {
  expired: "Your session has ended. Sign in again to get back to your chats.",
  revoked: "This device was signed out from another one.",
  "signed-out": "You signed out. Your chats are safe in your account.",
};

/**
 * Shown instead of the app when an account's session is gone (signed out, revoked, or a refresh
 * that the server refused): sign back in with a passkey, or carry on as a new guest.
 * @param {string | null} reason
 */
export function signedOutView(reason) {
  const guest = h(
    "button",
    {
      type: "button",
      class: "btn btn--ghost",
      "data-testid": "continue-as-guest",
      onclick: async () => {
        guest.disabled = true;
        try {
          await continueAsGuest();
          location.assign("/");
        } catch (error) {
          notifyError(error);
          guest.disabled = false;
        }
      },
    },
    "Continue as a guest",
  );
  const element = h(
    "div",
    { class: "page page--narrow page--center", "data-testid": "signed-out" },
    h("h1", {}, "You're signed out"),
    h("p", { class: "lede" }, REASONS[reason] ?? REASONS.expired),
    h(
      "div",
      { class: "settings__actions settings__actions--center" },
      signInButton({ tone: "primary" }),
      guest,
    ),
  );
  return { element, title: "Signed out" };
}
