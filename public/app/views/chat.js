import { request } from "../api.js";
import { loadCharacter } from "../characters.js";
import { avatar } from "../components/avatar.js";
import { chatList } from "../components/chat-list.js";
import { h, icon, replace } from "../dom.js";
import { describeSocketError } from "../errors.js";
import { fillPlaceholders, fullTime, shortName, timeAgo } from "../format.js";
import { notifyError } from "../notify.js";
import { richText } from "../rich-text.js";
import { socket } from "../ws.js";

const PAGE_SIZE = 30;
// If a reply goes silent this long, stop waiting for it (the server may have lost it).
const REPLY_WATCHDOG_MS = 45_000;
// After Stop, how long to wait for the server's final frame before finishing locally.
const CANCEL_GRACE_MS = 4000;
const MAX_CONTENT = 4000;

/**
 * `/chats/:id` — one conversation over the real-time socket: the user's message is shown at once
 * (queued while offline), the reply streams in piece by piece, and after a reconnect the latest
 * history is reloaded and merged so nothing is lost or doubled.
 */
export function chatView({ id }) {
  /** @type {Map<string, HTMLElement>} persisted messages by id */
  const byId = new Map();
  /** @type {Map<string, {el: HTMLElement, content: string, sent: boolean}>} unconfirmed sends by client_id */
  const pending = new Map();
  const state = {
    character: null,
    oldestId: null,
    hasOlder: false,
    reply: null,
    watchdog: 0,
    cancelTimer: 0,
    stickToBottom: true,
  };

  const title = h("h1", { class: "chat-head__name", "data-testid": "chat-title" }, "Chat");
  const headAvatar = h("span", { class: "chat-head__avatar" });
  const headSub = h("p", { class: "chat-head__sub muted" });
  const olderButton = h(
    "button",
    {
      type: "button",
      class: "btn btn--ghost btn--sm",
      "data-testid": "load-older",
      hidden: true,
      onclick: loadOlder,
    },
    "Load earlier messages",
  );
  const messages = h("ol", {
    class: "messages",
    role: "log",
    "aria-label": "Messages",
    "data-testid": "message-list",
    "aria-busy": "true",
  });
  const scroller = h(
    "div",
    { class: "chat-scroll" },
    h("div", { class: "chat-scroll__older" }, olderButton),
    messages,
  );
  const banner = h("p", {
    class: "banner banner--warn",
    role: "status",
    "data-testid": "connection-banner",
    hidden: true,
  });
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
  const sendButton = h(
    "button",
    {
      type: "submit",
      class: "btn btn--primary composer__send",
      "data-testid": "chat-send",
      "aria-label": "Send message",
    },
    icon("send"),
  );
  const stopButton = h(
    "button",
    {
      type: "button",
      class: "btn btn--secondary composer__stop",
      "data-testid": "chat-stop",
      hidden: true,
      onclick: stopReply,
    },
    icon("stop"),
    h("span", {}, "Stop"),
  );
  const composer = h(
    "form",
    { class: "composer", "data-testid": "chat-form", onsubmit: onSubmit },
    h("label", { for: "chat-input", class: "visually-hidden" }, "Message"),
    input,
    stopButton,
    sendButton,
    h("p", { id: "composer-hint", class: "visually-hidden" }, "Enter sends, Shift+Enter starts a new line."),
  );

  const sidebar = chatList({ activeId: id, compact: true });
  const element = h(
    "div",
    { class: "chat-layout" },
    h(
      "aside",
      { class: "chat-layout__side", "aria-label": "Your chats" },
      h("h2", { class: "chat-layout__side-title" }, "Chats"),
      sidebar.element,
    ),
    h(
      "section",
      { class: "chat", "data-testid": "chat-view", "data-chat-id": id },
      h(
        "header",
        { class: "chat-head" },
        h(
          "a",
          { href: "/chats", class: "icon-btn chat-head__back", "aria-label": "All chats" },
          icon("back"),
        ),
        headAvatar,
        h("div", { class: "chat-head__text" }, title, headSub),
      ),
      banner,
      scroller,
      composer,
    ),
  );

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", autosize);
  scroller.addEventListener("scroll", () => {
    state.stickToBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  });

  const unsubscribe = [
    socket.on("chat.message", onMessageFrame),
    socket.on("chat.delta", onDelta),
    socket.on("chat.done", onDone),
    socket.on("error", onErrorFrame),
    socket.on("status", showConnection),
    socket.on("reconnect", reloadLatest),
    socket.on("flushed", onFlushed),
  ];
  showConnection(socket.status);
  loadHeader();
  loadInitial();

  // ---- loading -------------------------------------------------------------------------------

  async function loadHeader() {
    try {
      const { items } = await request("/chats", { query: { limit: 100 } });
      const chat = items.find((c) => c.id === id);
      if (!chat) return;
      headSub.textContent = `Started ${timeAgo(chat.created_at)}`;
      const character = await loadCharacter(chat.character_id);
      state.character = character;
      document.title = `${character.name} · Edge Art`;
      title.textContent = shortName(character.name);
      title.title = character.name;
      const epithet = character.name.slice(shortName(character.name).length).replace(/^,\s*/, "");
      if (epithet) headSub.textContent = `${epithet} · started ${timeAgo(chat.created_at)}`;
      replace(
        headAvatar,
        h(
          "a",
          {
            href: `/characters/${encodeURIComponent(character.id)}`,
            "aria-label": `About ${character.name}`,
          },
          avatar(character, "md"),
        ),
      );
      input.placeholder = `Message ${shortName(character.name)}…`;
      for (const el of messages.querySelectorAll(".msg--assistant .msg__avatar")) {
        replace(el, avatar(character, "sm"));
      }
      // Texts rendered before the name was known used an empty {{char}}.
      for (const el of messages.querySelectorAll("[data-role='assistant'][data-content]")) {
        setText(el, el.dataset.content);
      }
    } catch {
      // The header is decoration; the conversation still works.
    }
  }

  async function loadInitial() {
    try {
      const page = await fetchPage();
      for (const message of page.items.reverse()) upsert(message);
      if (byId.size === 0) renderEmpty();
      scrollToBottom();
    } catch (error) {
      replace(messages, h("li", { class: "empty", role: "alert" }, error.message));
    } finally {
      messages.setAttribute("aria-busy", "false");
    }
  }

  async function loadOlder() {
    if (!state.oldestId) return;
    olderButton.disabled = true;
    const before = scroller.scrollHeight;
    try {
      const page = await fetchPage(state.oldestId);
      for (const message of page.items) upsert(message);
      scroller.scrollTop += scroller.scrollHeight - before;
    } catch (error) {
      notifyError(error);
    } finally {
      olderButton.disabled = false;
    }
  }

  async function fetchPage(before) {
    const page = await request(`/chats/${encodeURIComponent(id)}/messages`, {
      query: { limit: PAGE_SIZE, before },
    });
    const items = page.items ?? [];
    // Newest first: the last item is the oldest one on this page.
    if (before || !state.oldestId) {
      state.oldestId = items.at(-1)?.id ?? state.oldestId;
      state.hasOlder = "next_cursor" in page ? Boolean(page.next_cursor) : items.length === PAGE_SIZE;
    }
    olderButton.hidden = !state.hasOlder;
    return { items };
  }

  /** After a dropped socket: merge the newest page so replies finished while offline show up. */
  async function reloadLatest() {
    try {
      const { items } = await request(`/chats/${encodeURIComponent(id)}/messages`, {
        query: { limit: PAGE_SIZE },
      });
      for (const message of [...items].reverse()) upsert(message, { fromReload: true });
      // Our message is persisted and the newest one is the character's: the reply finished while we
      // were away, so stop waiting for frames that already went to the old socket.
      const newest = items[0];
      const replyDone = !state.reply?.el || state.reply.el.dataset.state === "complete";
      if (state.reply && pending.size === 0 && newest?.role === "assistant" && replyDone) finishReply();
      if (state.stickToBottom) scrollToBottom();
    } catch (error) {
      notifyError(error);
    }
  }

  // ---- rendering -----------------------------------------------------------------------------

  function messageEl({ role, state: status = "complete" }) {
    const bubbleText = h("div", { class: "bubble__text" });
    const meta = h("div", { class: "msg__meta" });
    return h(
      "li",
      { class: `msg msg--${role}`, "data-testid": "message", "data-role": role, "data-state": status },
      role === "assistant"
        ? h("span", { class: "msg__avatar" }, state.character ? avatar(state.character, "sm") : null)
        : null,
      h("div", { class: `bubble bubble--${role}` }, bubbleText, meta),
    );
  }

  function setText(el, text) {
    const display =
      el.dataset.role === "assistant" ? fillPlaceholders(text, state.character?.name ?? "") : text;
    replace(el.querySelector(".bubble__text"), richText(display));
    el.dataset.content = text;
  }

  function setMeta(el, ...children) {
    replace(el.querySelector(".msg__meta"), children);
  }

  function markPersisted(el, message) {
    el.dataset.messageId = message.id;
    el.dataset.createdAt = message.created_at;
    el.dataset.state = "complete";
    el.removeAttribute("aria-busy");
    delete el.dataset.clientId;
    setText(el, message.content);
    // A reply cut short keeps what was streamed; say so next to its time.
    const outcome = { cancelled: "Stopped", failed: "Interrupted" }[message.status];
    el.dataset.outcome = message.status ?? "complete";
    setMeta(
      el,
      outcome ? `${outcome} · ` : null,
      h(
        "time",
        { datetime: message.created_at, title: fullTime(message.created_at) },
        timeAgo(message.created_at),
      ),
    );
    byId.set(message.id, el);
  }

  /** Inserts or updates a persisted message, keeping the list in time order. */
  function upsert(message, { fromReload = false } = {}) {
    if (message.chat_id && message.chat_id !== id) return;
    messages.querySelector(".empty")?.remove();
    const existing = byId.get(message.id);
    if (existing) {
      if (existing.dataset.content !== message.content || existing.dataset.state !== "complete")
        markPersisted(existing, message);
      return existing;
    }
    // A send whose echo was lost with the socket: adopt the bubble instead of doubling it.
    if (fromReload && message.role === "user") {
      for (const [clientId, entry] of pending) {
        if (entry.sent && entry.content === message.content) {
          pending.delete(clientId);
          markPersisted(entry.el, message);
          return entry.el;
        }
      }
    }
    const el = messageEl({ role: message.role });
    markPersisted(el, message);
    insertInOrder(el, message);
    return el;
  }

  function insertInOrder(el, message) {
    const key = `${message.created_at}|${message.id}`;
    for (const other of messages.children) {
      if (!other.dataset.messageId) {
        messages.insertBefore(el, other);
        return;
      }
      if (`${other.dataset.createdAt}|${other.dataset.messageId}` > key) {
        messages.insertBefore(el, other);
        return;
      }
    }
    messages.append(el);
  }

  function renderEmpty() {
    replace(messages, h("li", { class: "empty" }, "No messages yet — say hello."));
  }

  function scrollToBottom() {
    requestAnimationFrame(() => {
      scroller.scrollTop = scroller.scrollHeight;
    });
  }

  function followIfAtBottom() {
    if (state.stickToBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 180)}px`;
  }

  function showConnection(status) {
    banner.hidden = status === "online";
    banner.textContent =
      status === "connecting"
        ? "Reconnecting… anything you send now goes out as soon as we're back."
        : "You're offline. Anything you send now goes out as soon as the connection is back.";
  }

  // ---- sending -------------------------------------------------------------------------------

  function onSubmit(event) {
    event.preventDefault();
    const content = input.value.trim();
    if (!content || state.reply) return;
    input.value = "";
    autosize();
    send(content);
  }

  function send(content, reuse) {
    const clientId = crypto.randomUUID();
    const el = reuse ?? messageEl({ role: "user", state: "pending" });
    el.dataset.clientId = clientId;
    setText(el, content);
    if (!reuse) {
      messages.querySelector(".empty")?.remove();
      messages.append(el);
    }
    const sent = socket.send({ type: "chat.send", chat_id: id, content, client_id: clientId });
    pending.set(clientId, { el, content, sent });
    showPendingState(el, sent);
    beginReply();
    if (sent) markSent();
    state.stickToBottom = true;
    scrollToBottom();
  }

  function showPendingState(el, sent) {
    el.dataset.state = sent ? "pending" : "queued";
    setMeta(
      el,
      sent
        ? "Sending…"
        : h("span", { class: "msg__queued" }, icon("clock"), "Queued — sends when you're back online"),
    );
  }

  function onFlushed(frames) {
    for (const frame of frames) {
      const entry = pending.get(frame.client_id);
      if (!entry) continue;
      entry.sent = true;
      showPendingState(entry.el, true);
      markSent();
    }
  }

  function stopReply() {
    socket.send({ type: "chat.cancel", chat_id: id });
    // Drop a send that is still waiting for the connection: there is nothing to stop upstream yet.
    for (const [clientId, entry] of pending) {
      if (!entry.sent) {
        socket.unqueue((frame) => frame.client_id === clientId);
        pending.delete(clientId);
        entry.el.remove();
        input.value = entry.content;
      }
    }
    clearTimeout(state.cancelTimer);
    if (!state.reply?.sent) {
      finishReply({ outcome: "Stopped" });
      return;
    }
    state.cancelTimer = setTimeout(() => finishReply({ outcome: "Stopped" }), CANCEL_GRACE_MS);
  }

  // ---- the reply -----------------------------------------------------------------------------

  function beginReply() {
    if (!state.reply) {
      state.reply = { el: null, messageId: null, raw: "", sent: false };
      const typing = h(
        "li",
        { class: "msg msg--assistant msg--typing", "data-testid": "typing", "aria-label": "Typing" },
        h("span", { class: "msg__avatar" }, state.character ? avatar(state.character, "sm") : null),
        h(
          "div",
          { class: "bubble bubble--assistant" },
          h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
        ),
      );
      // Shown once the message is actually out; a queued one waits for the connection first.
      typing.hidden = true;
      state.reply.typing = typing;
      messages.append(typing);
    }
    stopButton.hidden = false;
    sendButton.hidden = true;
  }

  /** The message reached the server: now we are really waiting on the character. */
  function markSent() {
    if (!state.reply) return;
    state.reply.sent = true;
    if (state.reply.typing) state.reply.typing.hidden = false;
    followIfAtBottom();
    armWatchdog();
  }

  function armWatchdog() {
    clearTimeout(state.watchdog);
    state.watchdog = setTimeout(() => {
      if (!state.reply) return;
      showError("The reply stopped arriving. You can send your message again.");
      finishReply({ outcome: "Stopped" });
    }, REPLY_WATCHDOG_MS);
  }

  function onDelta(frame) {
    if (frame.chat_id !== id) return;
    if (!state.reply) {
      beginReply();
      markSent();
    }
    const reply = state.reply;
    if (!reply.el || (frame.message_id && reply.messageId && frame.message_id !== reply.messageId)) {
      reply.typing?.remove();
      reply.typing = null;
      // After a reload the reply may already be on screen (persisted while it streams): keep streaming into it.
      const known = frame.message_id ? byId.get(frame.message_id) : null;
      reply.el = known ?? messageEl({ role: "assistant" });
      reply.el.dataset.state = "streaming";
      reply.el.setAttribute("aria-busy", "true");
      setMeta(reply.el, h("span", { class: "msg__streaming" }, "Writing…"));
      reply.messageId = frame.message_id;
      reply.raw = known?.dataset.content ?? "";
      if (!known) {
        // Registered under its future id at once, so the persisted message (chat.done, chat.message
        // or a reload) finds and completes this bubble instead of adding a second one.
        if (frame.message_id) {
          reply.el.dataset.messageId = frame.message_id;
          byId.set(frame.message_id, reply.el);
        }
        messages.append(reply.el);
      }
    }
    reply.raw += frame.delta ?? "";
    setText(reply.el, reply.raw);
    followIfAtBottom();
    armWatchdog();
  }

  function onDone(frame) {
    if (frame.chat_id !== id && frame.message?.chat_id !== id) return;
    if (frame.message) adoptReply(frame.message) || upsert(frame.message);
    finishReply();
  }

  /** Turns the bubble being streamed into the persisted reply; false when nothing is streaming. */
  function adoptReply(message) {
    const el = state.reply?.el;
    if (message.role !== "assistant" || !el || el.dataset.state !== "streaming" || byId.has(message.id))
      return false;
    if (el.dataset.messageId && el.dataset.messageId !== message.id) byId.delete(el.dataset.messageId);
    markPersisted(el, message);
    return true;
  }

  function onMessageFrame(frame) {
    const message = frame.message;
    if (!message || message.chat_id !== id) return;
    const entry = frame.client_id ? pending.get(frame.client_id) : null;
    if (entry) {
      pending.delete(frame.client_id);
      markPersisted(entry.el, message);
      return;
    }
    adoptReply(message) || upsert(message);
    followIfAtBottom();
    // An assistant message that wasn't streamed to this tab (e.g. sent from another one) ends the wait.
    if (
      message.role === "assistant" &&
      state.reply &&
      pending.size === 0 &&
      (!state.reply.el || byId.get(message.id) === state.reply.el)
    ) {
      finishReply();
    }
  }

  function onErrorFrame(frame) {
    if (frame.chat_id && frame.chat_id !== id) return;
    if (!frame.chat_id && !state.reply && pending.size === 0) return;
    showError(describeSocketError(frame));
    for (const [clientId, entry] of pending) {
      if (!entry.sent) continue;
      pending.delete(clientId);
      markFailed(entry);
    }
    finishReply({ outcome: "Interrupted" });
  }

  function markFailed(entry) {
    entry.el.dataset.state = "failed";
    const retry = h(
      "button",
      {
        type: "button",
        class: "link-btn",
        "data-testid": "retry-send",
        onclick: () => {
          if (state.reply) return;
          send(entry.content, entry.el);
        },
      },
      "Retry",
    );
    setMeta(entry.el, h("span", { class: "msg__failed" }, icon("alert"), "Not delivered · "), retry);
  }

  /** Ends the wait for a reply; `outcome` labels a bubble that will get no persisted version. */
  function finishReply({ outcome = "" } = {}) {
    clearTimeout(state.watchdog);
    clearTimeout(state.cancelTimer);
    const reply = state.reply;
    state.reply = null;
    reply?.typing?.remove();
    if (reply?.el && reply.el.dataset.state === "streaming") {
      reply.el.dataset.state = outcome ? "interrupted" : "complete";
      reply.el.removeAttribute("aria-busy");
      setMeta(reply.el, outcome);
    }
    stopButton.hidden = true;
    sendButton.hidden = false;
  }

  function showError(text) {
    messages.append(
      h(
        "li",
        { class: "chat-error", role: "alert", "data-testid": "chat-error" },
        icon("alert"),
        h("span", {}, text),
      ),
    );
    followIfAtBottom();
  }

  return {
    element,
    title: "Chat",
    destroy: () => {
      for (const off of unsubscribe) off();
      clearTimeout(state.watchdog);
      clearTimeout(state.cancelTimer);
    },
  };
}
