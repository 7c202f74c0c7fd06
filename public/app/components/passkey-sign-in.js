import { describeMerge, flash, passkeysSupported, signInWithPasskey } from "../auth.js";
import { h, icon } from "../dom.js";
import { notifyError } from "../notify.js";

/**
 * "Sign in with a passkey": a discoverable-credential sign-in. What the current guest made moves
 * into the account; the app then reloads as that account and says how much moved.
 * @param {{tone?: "primary" | "secondary" | "ghost", onDone?: () => void}} [options]
 */
export function signInButton({ tone = "secondary" } = {}) {
  const button = h(
    "button",
    {
      type: "button",
      class: `btn btn--${tone}`,
      "data-testid": "passkey-sign-in",
      disabled: !passkeysSupported(),
      onclick: async () => {
        button.disabled = true;
        button.classList.add("is-busy");
        try {
          const session = await signInWithPasskey();
          flash(describeMerge(session.merged));
          // A full reload: every view, list and the socket start again as the account.
          location.assign("/chats");
        } catch (error) {
          notifyError(error);
          button.disabled = false;
          button.classList.remove("is-busy");
        }
      },
    },
    icon("key"),
    "Sign in with a passkey",
  );
  return button;
}
