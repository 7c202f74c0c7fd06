import { h } from "../dom.js";

/**
 * Asks the user to choose, in a modal `<dialog>` (focus moves into it and returns afterwards;
 * Escape cancels). Resolves with the chosen action's `value`, or null when dismissed.
 * @example
 * if (await choose({ title: "Delete this chat?", actions: [{ label: "Delete", value: true, tone: "danger" }] })) ...
 * @param {object} options
 * @param {string} options.title
 * @param {string} [options.body]
 * @param {{label: string, value: any, tone?: "primary" | "danger", testid?: string}[]} options.actions
 * @param {string} [options.testid]
 * @param {string} [options.cancelLabel]
 * @returns {Promise<any>}
 */
export function choose({ title, body, actions, testid, cancelLabel = "Cancel" }) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    let result = null;
    const button = ({ label, value, tone, testid: id }) =>
      h(
        "button",
        {
          type: "button",
          class: `btn ${tone === "danger" ? "btn--danger" : tone === "primary" ? "btn--primary" : "btn--secondary"}`,
          "data-testid": id,
          onclick: () => {
            result = value;
            dialog.close();
          },
        },
        label,
      );
    const dialog = h(
      "dialog",
      { class: "dialog", "data-testid": testid, "aria-labelledby": "dialog-title" },
      h("h2", { id: "dialog-title", class: "dialog__title" }, title),
      body ? h("p", { class: "dialog__body" }, body) : null,
      h(
        "div",
        { class: "dialog__actions" },
        h("button", { type: "button", class: "btn btn--ghost", onclick: () => dialog.close() }, cancelLabel),
        actions.map(button),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener?.isConnected) opener.focus?.({ preventScroll: true });
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    // A safe default: the suggested action when there is one, otherwise Cancel (never Delete).
    (dialog.querySelector(".dialog__actions .btn--primary") ?? dialog.querySelector(".btn--ghost"))?.focus();
  });
}
