import { h, icon } from "../dom.js";

const MAX_CONTENT = 4000;

/**
 * The message box: Enter sends, Shift+Enter breaks the line, the box grows with its text, and
 * Send turns into Stop while a reply is being written.
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
      onclick: onStop,
    },
    icon("stop"),
    h("span", {}, "Stop"),
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
        if (!text || busy) return;
        input.value = "";
        autosize();
        onSend(text);
      },
    },
    h("label", { for: "chat-input", class: "visually-hidden" }, "Message"),
    input,
    stop,
    send,
    h("p", { id: "composer-hint", class: "visually-hidden" }, "Enter sends, Shift+Enter starts a new line."),
  );

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
      busy = value;
      stop.hidden = !value;
      send.hidden = value;
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
