import { avatar } from "../components/avatar.js";
import { h, icon, replace } from "../dom.js";
import { fillPlaceholders, liveTime } from "../format.js";
import { richText } from "../rich-text.js";
import { attachmentsView } from "./attachments.js";

const OUTCOME_TEXT = { cancelled: "Stopped", failed: "Interrupted" };

/**
 * The scrolling list of a chat's messages, oldest at the top. It owns the DOM only: each bubble
 * is keyed by message id (a streamed reply is keyed by its id from its first piece, so the
 * persisted copy completes it instead of adding a second bubble), persisted messages stay in
 * time order, and the view stays pinned to the bottom while the reader is there.
 * @param {{onLoadOlder: () => void, decorate?: (el: HTMLElement, message: object) => void}} options
 *   `decorate` adds the per-message tools (edit, delete, swipes) to each stored message
 */
export function messageLog({ onLoadOlder, decorate }) {
  /** @type {Map<string, HTMLElement>} */
  const byId = new Map();
  let character = null;
  let pinned = true;
  /** The error of the turn in progress: it stays right after that turn's last message. */
  let turnError = null;

  const olderButton = h(
    "button",
    {
      type: "button",
      class: "btn btn--ghost btn--sm",
      "data-testid": "load-older",
      hidden: true,
      onclick: onLoadOlder,
    },
    "Load earlier messages",
  );
  const list = h("ol", {
    class: "messages",
    role: "log",
    "aria-label": "Messages",
    "data-testid": "message-list",
    "aria-busy": "true",
  });
  const typing = h(
    "li",
    {
      class: "msg msg--assistant msg--typing",
      "data-testid": "typing",
      "aria-label": "Typing",
    },
    h("span", { class: "msg__avatar" }),
    h(
      "div",
      { class: "bubble bubble--assistant" },
      h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
    ),
  );
  const element = h(
    "div",
    { class: "chat-scroll" },
    h("div", { class: "chat-scroll__older" }, olderButton),
    list,
  );
  element.addEventListener("scroll", () => {
    pinned = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
  });

  function bubble(role, state) {
    return h(
      "li",
      { class: `msg msg--${role}`, "data-testid": "message", "data-role": role, "data-state": state },
      role === "assistant"
        ? h("span", { class: "msg__avatar" }, character ? avatar(character, "sm") : null)
        : null,
      h(
        "div",
        { class: `bubble bubble--${role}` },
        h("div", { class: "bubble__text" }),
        h("div", { class: "bubble__attachments" }),
        h("div", { class: "msg__meta" }),
      ),
    );
  }

  function setText(el, text) {
    const shown = el.dataset.role === "assistant" ? fillPlaceholders(text, character?.name ?? "") : text;
    // A reply that failed before its first word is stored empty; say so instead of an empty bubble.
    // A picture needs no words.
    const picture = Number(el.dataset.attachments) > 0;
    const body = shown.trim()
      ? richText(shown)
      : picture
        ? null
        : h("p", { class: "bubble__none" }, "No reply");
    replace(el.querySelector(".bubble__text"), body);
    el.dataset.content = text;
  }

  function setMeta(el, ...children) {
    replace(el.querySelector(".msg__meta"), children);
  }

  /** Keeps the typing indicator last, after whatever was just added. */
  function appendLast(el) {
    list.querySelector(".empty")?.remove();
    list.insertBefore(el, typing.isConnected ? typing : null);
    placeError();
  }

  /**
   * A failed turn's error goes right after the turn's last message, whichever arrived first: the
   * error frame, the streamed reply, or the stored (empty) reply.
   */
  function placeError() {
    if (!turnError?.isConnected) return;
    const messages = list.querySelectorAll("[data-testid='message']");
    const last = messages[messages.length - 1];
    if (last && last.nextElementSibling !== turnError) last.after(turnError);
  }

  /**
   * Puts a stored message after the newest stored one that is older than it (and after the error
   * notes that follow that one), so unconfirmed sends and live streams stay at the bottom.
   */
  function insertInOrder(el, message) {
    list.querySelector(".empty")?.remove();
    const key = `${message.created_at}|${message.id}`;
    let anchor = null;
    for (const other of list.children) {
      if (!other.dataset.createdAt) continue;
      if (`${other.dataset.createdAt}|${other.dataset.messageId}` > key) break;
      anchor = other;
    }
    let next = anchor ? anchor.nextElementSibling : list.firstElementChild;
    while (next?.classList.contains("chat-error")) next = next.nextElementSibling;
    list.insertBefore(el, next);
    placeError();
  }

  const log = {
    element,
    list,

    /** Re-renders avatars and `{{char}}` once the character is known. */
    setCharacter(next) {
      character = next;
      for (const slot of list.querySelectorAll(".msg--assistant .msg__avatar"))
        replace(slot, avatar(next, "sm"));
      for (const el of list.querySelectorAll("[data-role='assistant'][data-content]"))
        setText(el, el.dataset.content);
    },

    has: (id) => byId.has(id),
    get: (id) => byId.get(id),

    /** Marks `el` as the stored `message` (time, id, final text). */
    persist(el, message) {
      el.dataset.messageId = message.id;
      el.dataset.createdAt = message.created_at;
      el.dataset.state = "complete";
      el.dataset.outcome = message.status ?? "complete";
      el.removeAttribute("aria-busy");
      delete el.dataset.clientId;
      el.dataset.attachments = String(message.attachments?.length ?? 0);
      setText(el, message.content);
      el.dataset.swipeIndex = String(message.swipe_index ?? 0);
      el.dataset.swipeCount = String(message.swipe_count ?? 1);
      el.dataset.editedAt = message.edited_at ?? "";
      replace(el.querySelector(".bubble__attachments"), attachmentsView(message.attachments));
      const outcome = OUTCOME_TEXT[message.status];
      setMeta(
        el,
        outcome ? `${outcome} · ` : null,
        liveTime(message.created_at),
        message.edited_at ? " · edited" : null,
      );
      byId.set(message.id, el);
      decorate?.(el, message);
      return el;
    },

    /** Adds or refreshes a stored message. */
    upsert(message) {
      const known = byId.get(message.id);
      if (known) {
        if (
          known.dataset.content !== message.content ||
          known.dataset.state !== "complete" ||
          known.dataset.swipeIndex !== String(message.swipe_index ?? 0) ||
          known.dataset.swipeCount !== String(message.swipe_count ?? 1) ||
          known.dataset.attachments !== String(message.attachments?.length ?? 0)
        )
          log.persist(known, message);
        return known;
      }
      const el = bubble(message.role, "complete");
      log.persist(el, message);
      insertInOrder(el, message);
      return el;
    },

    /** Removes the stored message `id` and everything after it (delete from here). */
    removeFrom(id) {
      const first = byId.get(id);
      if (!first) return;
      let el = first;
      while (el) {
        const next = el.nextElementSibling;
        if (el !== typing) {
          if (el.dataset.messageId) byId.delete(el.dataset.messageId);
          el.remove();
        }
        el = next;
      }
    },

    /** Adds something that is not a message (e.g. a picture being made) at the bottom. */
    appendNote(el) {
      appendLast(el);
      log.follow();
    },

    /** A new turn begins: the previous one's error stays where it is, without its Retry. */
    addOwn(content, clientId) {
      log.closeTurn();
      const el = bubble("user", "pending");
      el.dataset.clientId = clientId;
      setText(el, content);
      appendLast(el);
      return el;
    },

    /** Shows whether an unconfirmed message went out or waits for the connection. */
    showSending(el, sent) {
      el.dataset.state = sent ? "pending" : "queued";
      setMeta(
        el,
        sent
          ? "Sending…"
          : h("span", { class: "msg__queued" }, icon("clock"), "Queued — sends when you're back online"),
      );
    },

    showUndelivered(el, onRetry) {
      el.dataset.state = "failed";
      setMeta(
        el,
        h("span", { class: "msg__failed" }, icon("alert"), "Not delivered · "),
        h(
          "button",
          { type: "button", class: "link-btn", "data-testid": "retry-send", onclick: onRetry },
          "Retry",
        ),
      );
    },

    /**
     * Appends a streamed piece to the reply `messageId`, creating its bubble on the first piece.
     * @returns {HTMLElement}
     */
    stream(messageId, text) {
      let el = messageId ? byId.get(messageId) : null;
      if (!el) {
        el = bubble("assistant", "streaming");
        if (messageId) {
          el.dataset.messageId = messageId;
          byId.set(messageId, el);
        }
        appendLast(el);
      }
      if (el.dataset.state !== "streaming") {
        el.dataset.state = "streaming";
        el.setAttribute("aria-busy", "true");
        setMeta(el, h("span", { class: "msg__streaming" }, "Writing…"));
      }
      setText(el, text);
      log.follow();
      return el;
    },

    /** Ends a stream that will get no stored copy (e.g. the socket died), labelling it. */
    endStream(el, outcome = "") {
      if (el?.dataset.state !== "streaming") return;
      el.dataset.state = outcome ? "interrupted" : "complete";
      el.removeAttribute("aria-busy");
      setMeta(el, outcome);
    },

    showTyping(visible) {
      if (!visible) {
        typing.remove();
        return;
      }
      replace(typing.querySelector(".msg__avatar"), character ? avatar(character, "sm") : null);
      list.append(typing);
      log.follow();
    },

    /**
     * Shows why a turn failed, right after its last message, with a Retry when `onRetry` is given.
     * @param {string} text
     * @param {() => void} [onRetry]
     */
    showError(text, onRetry) {
      log.closeTurn();
      turnError = h(
        "li",
        { class: "chat-error", role: "alert", "data-testid": "chat-error" },
        icon("alert"),
        h("span", {}, text),
        onRetry
          ? h(
              "button",
              {
                type: "button",
                class: "btn btn--secondary btn--sm chat-error__retry",
                "data-testid": "retry-reply",
                onclick: () => {
                  log.closeTurn();
                  onRetry();
                },
              },
              "Retry",
            )
          : null,
      );
      appendLast(turnError);
      log.follow();
    },

    /** Ends the current turn's claim on its error: it keeps its place and loses its Retry. */
    closeTurn() {
      turnError?.querySelector(".chat-error__retry")?.remove();
      turnError = null;
    },

    showEmpty(text) {
      if (!list.querySelector("[data-testid='message']")) replace(list, h("li", { class: "empty" }, text));
    },

    setHasOlder(more) {
      olderButton.hidden = !more;
    },

    setBusy(busy) {
      list.setAttribute("aria-busy", String(busy));
      olderButton.disabled = busy;
    },

    /** Runs `change` (which adds older messages above) without moving what the reader sees. */
    async keepPosition(change) {
      const before = element.scrollHeight;
      await change();
      element.scrollTop += element.scrollHeight - before;
    },

    scrollToBottom() {
      pinned = true;
      requestAnimationFrame(() => {
        element.scrollTop = element.scrollHeight;
      });
    },

    /** Follows new content only when the reader is already at the bottom. */
    follow() {
      if (pinned) element.scrollTop = element.scrollHeight;
    },
  };
  return log;
}
