import { request } from "../api.js";
import { loadCharacter } from "../characters.js";
import { chatExportButton } from "../chat/chat-transfer.js";
import { composer } from "../chat/composer.js";
import { messageLog } from "../chat/message-log.js";
import { pictureButton } from "../chat/picture-button.js";
import { summaryPanel } from "../chat/summary-panel.js";
import { messageTools } from "../chat/swipes.js";
import { avatar } from "../components/avatar.js";
import { chatList } from "../components/chat-list.js";
import { h, icon, replace } from "../dom.js";
import { describeSocketError } from "../errors.js";
import { shortName, timeAgo } from "../format.js";
import { notifyError } from "../notify.js";
import { socket } from "../ws.js";

const PAGE_SIZE = 30;
// If a reply goes silent this long, stop waiting for it (the server may have lost it).
const REPLY_WATCHDOG_MS = 45_000;
// After Stop, how long to wait for the server's final frame before finishing locally.
const CANCEL_GRACE_MS = 4000;

/**
 * `/chats/:id` — one conversation over the real-time socket. The user's message shows at once
 * (queued while offline), the reply streams in piece by piece, and after a reconnect the newest
 * page of history is merged in, so nothing is lost or shown twice.
 */
export function chatView({ id }) {
  /** @type {Map<string, {el: HTMLElement, content: string, sent: boolean}>} sends awaiting their echo, by client_id */
  const pending = new Map();
  /** The reply being waited for: `{el, text, sent}`; null when the chat is idle. */
  let reply = null;
  let oldestId = null;
  let watchdog = 0;
  let cancelTimer = 0;
  let destroyed = false;
  // A swipe was asked for and not answered yet (its error is not a failed turn).
  let swiping = false;
  // What to load again after a dropped connection.
  let headerLoaded = false;
  let historyLoaded = false;

  const log = messageLog({ onLoadOlder: loadOlder, decorate: (el, message) => tools.decorate(el, message) });
  const tools = messageTools({ chatId: id, log, onTurn: startTurn, onSwipe: swipe });
  const memory = summaryPanel({ chatId: id });
  const pictures = pictureButton({ chatId: id, log });
  const box = composer({ onSend: send, onStop: stopReply });
  const title = h("h1", { id: "chat-title", class: "chat-head__name", "data-testid": "chat-title" }, "Chat");
  const headAvatar = h("span", { class: "chat-head__avatar" });
  const headSub = h("p", { class: "chat-head__sub muted" });
  const banner = h("p", {
    class: "banner banner--warn",
    role: "status",
    "data-testid": "connection-banner",
    hidden: true,
  });
  const header = h(
    "header",
    { class: "chat-head" },
    h("a", { href: "/chats", class: "icon-btn chat-head__back", "aria-label": "All chats" }, icon("back")),
    headAvatar,
    h("div", { class: "chat-head__text" }, title, headSub),
    h("div", { class: "chat-head__actions" }, pictures.element, chatExportButton({ chatId: id })),
  );

  const element = h(
    "div",
    { class: "chat-layout" },
    h(
      "aside",
      { class: "chat-layout__side", "aria-label": "Your chats" },
      h("h2", { class: "chat-layout__side-title" }, "Chats"),
      chatList({ activeId: id, compact: true }).element,
    ),
    h(
      "section",
      { class: "chat", "data-testid": "chat-view", "data-chat-id": id, "aria-labelledby": "chat-title" },
      header,
      memory.element,
      banner,
      log.element,
      box.element,
    ),
  );

  const unsubscribe = [
    socket.on("chat.message", onMessageFrame),
    socket.on("chat.delta", onDelta),
    socket.on("chat.done", onDone),
    socket.on("error", onErrorFrame),
    // Changes made over REST (here or in another tab) reach every socket of the user.
    socket.on("chat.messages_deleted", (frame) => {
      if (frame.chat_id !== id) return;
      const first = log.list.querySelector(
        (frame.message_ids ?? []).map((m) => `[data-message-id="${CSS.escape(m)}"]`).join(",") || ":not(*)",
      );
      if (first) log.removeFrom(first.dataset.messageId);
      tools.refresh();
    }),
    socket.on("chat.updated", (frame) => {
      if (frame.chat?.id === id) memory.setChat(frame.chat);
    }),
    socket.on("status", showConnection),
    socket.on("reconnect", onReconnect),
    socket.on("flushed", onFlushed),
  ];
  showConnection(socket.status);
  loadHeader();
  loadInitial();

  // ---- loading -------------------------------------------------------------------------------

  /** The chat itself, to learn its character; null when it is gone. */
  async function findChat() {
    try {
      return await request(`/chats/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error.status === 404) return null;
      throw error;
    }
  }

  async function loadHeader(attempt = 1) {
    header.setAttribute("aria-busy", "true");
    try {
      const chat = await findChat();
      if (!chat) {
        showMissing();
        return;
      }
      headSub.textContent = `Started ${timeAgo(chat.created_at)}`;
      memory.setChat(chat);
      const character = await loadCharacter(chat.character_id);
      const name = shortName(character.name);
      const epithet = character.name.slice(name.length).replace(/^,\s*/, "");
      document.title = `${character.name} · Edge Art`;
      title.textContent = name;
      title.title = character.name;
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
      box.setPlaceholder(`Message ${name}…`);
      log.setCharacter(character);
      headerLoaded = true;
    } catch (error) {
      // Only decoration (the conversation works without it), but worth a retry after a rate limit.
      if (attempt < 3 && !destroyed) {
        setTimeout(() => loadHeader(attempt + 1), (error.retryAfter ?? attempt) * 1000);
        return;
      }
    } finally {
      header.setAttribute("aria-busy", "false");
    }
  }

  async function fetchMessages(before) {
    const page = await request(`/chats/${encodeURIComponent(id)}/messages`, {
      query: { limit: PAGE_SIZE, before },
    });
    const items = page.items ?? [];
    return { items, more: "next_cursor" in page ? Boolean(page.next_cursor) : items.length === PAGE_SIZE };
  }

  async function loadInitial() {
    log.setBusy(true);
    try {
      const { items, more } = await fetchMessages();
      log.list.querySelector(".empty")?.remove();
      // Newest first from the API; the last item is the oldest on the page.
      for (const message of [...items].reverse()) log.upsert(message);
      oldestId = items.at(-1)?.id ?? null;
      log.setHasOlder(more);
      log.showEmpty("No messages yet — say hello.");
      log.scrollToBottom();
      historyLoaded = true;
    } catch (error) {
      if (error.status === 404) return showMissing();
      replace(log.list, h("li", { class: "empty", role: "alert" }, error.message));
    } finally {
      log.setBusy(false);
    }
  }

  async function loadOlder() {
    if (!oldestId) return;
    log.setBusy(true);
    try {
      await log.keepPosition(async () => {
        const { items, more } = await fetchMessages(oldestId);
        for (const message of items) log.upsert(message);
        oldestId = items.at(-1)?.id ?? oldestId;
        log.setHasOlder(more);
      });
    } catch (error) {
      notifyError(error);
    } finally {
      log.setBusy(false);
    }
  }

  /** Back online: load what failed while we were away, and merge what we may have missed. */
  function onReconnect() {
    if (destroyed) return;
    if (!headerLoaded) loadHeader();
    if (historyLoaded) reloadLatest();
    else loadInitial();
  }

  /** No such chat (or not ours): say so, and offer no message box to type into. */
  function showMissing() {
    if (destroyed || element.querySelector("[data-testid='chat-missing']")) return;
    headerLoaded = true;
    historyLoaded = true;
    document.title = "Chat not found · Edge Art";
    title.textContent = "Chat not found";
    headSub.textContent = "";
    box.remove();
    banner.remove();
    replace(
      log.element,
      h(
        "div",
        { class: "chat-missing", "data-testid": "chat-missing" },
        h("p", { class: "lede" }, "This chat doesn't exist any more, or it was never yours."),
        h("a", { href: "/chats", class: "btn btn--primary" }, "Your chats"),
      ),
    );
    log.setBusy(false);
  }

  /** After a dropped socket: merge the newest page so replies finished while offline show up. */
  async function reloadLatest() {
    try {
      const { items } = await fetchMessages();
      for (const message of [...items].reverse()) adoptEcho(message) || log.upsert(message);
      // Our message is stored and the newest one is the character's: the reply finished while we
      // were away, so stop waiting for frames that went to the old socket.
      const newest = items[0];
      const streaming = reply?.el?.dataset.state === "streaming";
      if (reply && pending.size === 0 && newest?.role === "assistant" && !streaming) finishReply();
      log.follow();
    } catch (error) {
      notifyError(error);
    }
  }

  /** A send whose echo was lost with the old socket: its bubble becomes the stored message. */
  function adoptEcho(message) {
    if (message.role !== "user" || log.has(message.id)) return false;
    for (const [clientId, entry] of pending) {
      if (entry.sent && entry.content === message.content) {
        pending.delete(clientId);
        log.persist(entry.el, message);
        return true;
      }
    }
    return false;
  }

  // ---- sending -------------------------------------------------------------------------------

  function send(content, retryEl) {
    const clientId = crypto.randomUUID();
    const el = retryEl ?? log.addOwn(content, clientId);
    el.dataset.clientId = clientId;
    const sent = socket.send({ type: "chat.send", chat_id: id, content, client_id: clientId });
    pending.set(clientId, { el, content, sent });
    log.showSending(el, sent);
    beginReply();
    if (sent) markSent();
    log.scrollToBottom();
  }

  function onFlushed(frames) {
    for (const frame of frames) {
      const entry = pending.get(frame.client_id);
      if (!entry) continue;
      entry.sent = true;
      log.showSending(entry.el, true);
      markSent();
    }
  }

  /** Regenerate or continue the last reply: a turn like a send, without a message of ours. */
  function startTurn(type) {
    if (reply) return;
    const sent = socket.send({ type, chat_id: id });
    beginReply(type === "chat.regenerate" ? "regenerate" : "continue");
    if (sent) markSent();
  }

  function swipe(messageId, index) {
    if (reply) return;
    swiping = true;
    socket.send({ type: "chat.swipe", chat_id: id, message_id: messageId, index });
  }

  function stopReply() {
    socket.send({ type: "chat.cancel", chat_id: id });
    // A send still waiting for the connection never reached the server: take it back into the box.
    for (const [clientId, entry] of pending) {
      if (entry.sent) continue;
      socket.unqueue((frame) => frame.client_id === clientId);
      pending.delete(clientId);
      entry.el.remove();
      box.restore(entry.content);
    }
    clearTimeout(cancelTimer);
    if (!reply?.sent) {
      finishReply({ outcome: "Stopped" });
      return;
    }
    cancelTimer = setTimeout(() => finishReply({ outcome: "Stopped" }), CANCEL_GRACE_MS);
  }

  // ---- the reply -----------------------------------------------------------------------------

  /** @param {"send" | "regenerate" | "continue"} [mode] how the streamed text relates to the stored one */
  function beginReply(mode = "send") {
    reply ??= { el: null, text: "", sent: false, mode };
    box.setBusy(true);
    tools.setBusy(true);
  }

  /** The message reached the server: now we are really waiting on the character. */
  function markSent() {
    if (!reply) return;
    reply.sent = true;
    if (!reply.el) log.showTyping(true);
    armWatchdog();
  }

  function armWatchdog() {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      if (!reply) return;
      log.showError("The reply stopped arriving.", retryTurn());
      finishReply({ outcome: "Stopped" });
    }, REPLY_WATCHDOG_MS);
  }

  /** Ends the wait; `outcome` labels a streamed bubble that will get no stored copy. */
  function finishReply({ outcome = "" } = {}) {
    clearTimeout(watchdog);
    clearTimeout(cancelTimer);
    log.showTyping(false);
    log.endStream(reply?.el, outcome);
    reply = null;
    box.setBusy(false);
    tools.setBusy(false);
  }

  function onDelta(frame) {
    if (frame.chat_id !== id) return;
    if (!reply) {
      // A reply to a message sent from another tab.
      beginReply();
      markSent();
    }
    if (!reply.el || (frame.message_id && reply.el.dataset.messageId !== frame.message_id)) {
      const known = frame.message_id ? log.get(frame.message_id) : null;
      // A new alternative starts from nothing; a continued reply grows from what it said.
      reply.text = reply.mode === "regenerate" ? "" : (known?.dataset.content ?? "");
      log.showTyping(false);
    }
    reply.text += frame.delta ?? "";
    reply.el = log.stream(frame.message_id, reply.text);
    armWatchdog();
  }

  function onDone(frame) {
    if (frame.chat_id !== id) return;
    if (frame.message) storeReply(frame.message);
    finishReply();
  }

  /** The stored reply completes the streamed bubble (matched by id, or the one streaming now). */
  function storeReply(message) {
    const el = reply?.el;
    if (el && !log.has(message.id) && el.dataset.state === "streaming") log.persist(el, message);
    else log.upsert(message);
  }

  function onMessageFrame({ message, client_id: clientId }) {
    if (!message || message.chat_id !== id) return;
    pictures.onMessage(message);
    swiping = false;
    const entry = clientId ? pending.get(clientId) : null;
    if (entry) {
      pending.delete(clientId);
      log.persist(entry.el, message);
      return;
    }
    if (message.role === "assistant") storeReply(message);
    else log.upsert(message);
    log.follow();
  }

  function onErrorFrame(frame) {
    if (frame.chat_id ? frame.chat_id !== id : !reply && pending.size === 0) return;
    if (swiping && !reply && pending.size === 0) {
      swiping = false;
      log.showError(describeSocketError(frame));
      return;
    }
    let undelivered = false;
    for (const [clientId, entry] of pending) {
      if (!entry.sent) continue;
      undelivered = true;
      pending.delete(clientId);
      log.showUndelivered(entry.el, () => {
        if (!reply) send(entry.content, entry.el);
      });
    }
    // A message that never arrived has its own Retry; otherwise offer to ask again.
    log.showError(describeSocketError(frame), undelivered ? undefined : retryTurn());
    finishReply({ outcome: "Interrupted" });
  }

  /** A Retry for the turn in progress: a regenerate or continue again, else the last message. */
  function retryTurn() {
    const mode = reply?.mode;
    if (mode === "regenerate" || mode === "continue") {
      return () => {
        if (!reply) startTurn(`chat.${mode}`);
      };
    }
    return retryLastMessage();
  }

  /** A Retry that sends the user's last message again, or nothing when there is none. */
  function retryLastMessage() {
    const own = log.list.querySelectorAll("[data-testid='message'][data-role='user'][data-content]");
    const content = own[own.length - 1]?.dataset.content;
    if (!content) return undefined;
    return () => {
      if (reply) return;
      send(content);
      box.focus();
    };
  }

  function showConnection(status) {
    banner.hidden = status === "online";
    banner.textContent =
      status === "connecting"
        ? "Reconnecting… anything you send now goes out as soon as we're back."
        : "You're offline. Anything you send now goes out as soon as the connection is back.";
  }

  return {
    element,
    title: "Chat",
    // Opening a chat is for writing in it: the caret goes to the message box, not the heading.
    focus: () => box.focus(),
    destroy: () => {
      destroyed = true;
      for (const off of unsubscribe) off();
      clearTimeout(watchdog);
      clearTimeout(cancelTimer);
    },
  };
}
