import { h, icon } from "../dom.js";

const MAX_CONTENT = 4000;

/**
 * The message box: Enter sends, Shift+Enter breaks the line, the box grows with its text, and
 * Send turns into Stop while a reply is being written. During a reply, Escape stops it, and
 * Enter keeps the text and says why nothing was sent. Keyboard focus never falls off the box
 * when Stop goes away.
 * @param {{onSend: (text: string) => void, onStop: () => void}} handlers
 */
export function composer({ onSend, onStop }) {
  const input = h("textarea", {
    id: "chat-input",
    class: "composer__input",
    rows: 1,
    maxlength: MAX_CONTENT,
    placeholder: "Write a message…",
    enterkeyhint: "send",
    "data-testid": "chat-input",
    "aria-describedby": "composer-hint",
  });
  const send = h(
    "button",
    {
      type: "submit",
      class: "btn btn--primary composer__send",
      "data-testid": "chat-send",
      "aria-label": "Send message",
    },
    icon("send"),
  );
  const stop = h(
    "button",
    {
      type: "button",
      class: "btn btn--secondary composer__stop",
      "data-testid": "chat-stop",
      hidden: true,
      "aria-keyshortcuts": "Escape",
      onclick: onStop,
    },
    icon("stop"),
    h("span", {}, "Stop"),
  );
  const busyHint = h(
    "p",
    { class: "composer__hint", role: "status", "data-testid": "composer-hint", hidden: true },
    "Wait for the reply to finish, or press Esc to stop it. Your text stays here.",
  );
  let busy = false;
  const form = h(
    "form",
    {
      class: "composer",
      "data-testid": "chat-form",
      onsubmit: (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (busy && text) {
          busyHint.hidden = false;
          return;
        }
        if (!text || busy) return;
        input.value = "";
        autosize();
        onSend(text);
      },
    },
    busyHint,
    h("label", { for: "chat-input", class: "visually-hidden" }, "Message"),
    input,
    stop,
    send,
    h("p", { id: "composer-hint", class: "visually-hidden" }, "Enter sends, Shift+Enter starts a new line."),
  );

  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && busy) {
      event.preventDefault();
      onStop();
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", autosize);

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 180)}px`;
  }

  return {
    element: form,
    /** While busy, Stop replaces Send (typing stays possible). */
    setBusy(value) {
      // Hiding the focused Stop button would drop focus to <body>: keep it in the box instead.
      const stopHadFocus = stop.contains(document.activeElement);
      busy = value;
      stop.hidden = !value;
      send.hidden = value;
      if (!value) busyHint.hidden = true;
      if (stopHadFocus && !value) input.focus();
    },
    /** Puts the caret in the box. */
    focus() {
      input.focus({ preventScroll: true });
    },
    /** Hides the box (and everything in it) for good, e.g. when the chat doesn't exist. */
    remove() {
      form.remove();
    },
    setPlaceholder(text) {
      input.placeholder = text;
    },
    /** Puts text back in the box, e.g. a queued message the user stopped. */
    restore(text) {
      input.value = text;
      autosize();
    },
  };
}
