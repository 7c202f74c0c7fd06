import { request } from "../api.js";
import { cachedCharacter, loadCharacter } from "../characters.js";
import { h, icon, replace } from "../dom.js";
import { fullTime, liveTime, shortName } from "../format.js";
import { notify, notifyError } from "../notify.js";
import { whileShown } from "../ws.js";
import { avatar } from "./avatar.js";
import { choose } from "./dialog.js";

/**
 * The caller's chats, most recent first, with "load more". Used as the Chats page and as the
 * sidebar next to an open chat. Each row says when its last message was sent (kept current as
 * messages arrive); the full list also lets a chat be deleted. After a dropped connection, a
 * list that failed to load loads again.
 * @param {{activeId?: string, compact?: boolean, onDeleted?: (id: string) => void}} [options]
 * @returns {{element: HTMLElement, refresh: () => Promise<void>}}
 */
export function chatList({ activeId, compact = false, onDeleted } = {}) {
  let cursor = null;
  let failed = false;
  const list = h("ul", {
    class: `chat-list${compact ? " chat-list--compact" : ""}`,
    "data-testid": "chat-list",
    "aria-busy": "true",
  });
  const more = h(
    "button",
    {
      type: "button",
      class: "btn btn--ghost load-more",
      hidden: true,
      "data-testid": "load-more-chats",
      onclick: () => load(true),
    },
    "Load more",
  );
  const element = h("div", { class: "chat-list-wrap" }, list, more);

  async function load(append) {
    more.disabled = true;
    list.setAttribute("aria-busy", "true");
    try {
      const page = await request("/chats", { query: { limit: 30, cursor: append ? cursor : null } });
      failed = false;
      cursor = page.next_cursor;
      const rows = page.items.map((chat) =>
        row(chat, { activeId, compact, onDelete: remove, onRename: rename }),
      );
      if (append) list.append(...rows);
      else replace(list, rows);
      showEmpty();
      more.hidden = !cursor;
    } catch (error) {
      if (!append) {
        failed = true;
        replace(list, h("li", { class: "empty", role: "alert" }, error.message));
      } else notifyError(error);
    } finally {
      more.disabled = false;
      list.setAttribute("aria-busy", "false");
    }
  }

  function showEmpty() {
    if (list.querySelector("[data-chat-id]")) return;
    replace(
      list,
      h(
        "li",
        { class: "empty" },
        "No chats yet. ",
        h("a", { href: "/" }, "Pick a character"),
        " to start one.",
      ),
    );
  }

  async function remove(chat, name, li) {
    const confirmed = await choose({
      title: `Delete this chat with ${name}?`,
      body: "Its messages will be gone for good.",
      actions: [{ label: "Delete chat", value: true, tone: "danger", testid: "confirm-delete" }],
      testid: "delete-chat-dialog",
    });
    if (!confirmed) return;
    try {
      await request(`/chats/${encodeURIComponent(chat.id)}`, { method: "DELETE" });
    } catch (error) {
      if (error.code !== "not_found") {
        notifyError(error);
        return;
      }
    }
    // Keep keyboard focus in the list: on the next row's delete button, else the previous one's.
    const neighbour = li.nextElementSibling ?? li.previousElementSibling;
    li.remove();
    neighbour?.querySelector("[data-testid='delete-chat'], a")?.focus();
    showEmpty();
    notify(`Deleted the chat with ${name}.`, { tone: "success" });
    onDeleted?.(chat.id);
  }

  /** Renames in place: the row's title becomes a text box; Enter saves (PATCH), Escape keeps the old one. */
  function rename(chat, li) {
    const title = li.querySelector(".chat-row__title");
    if (!title || li.querySelector(".chat-item__rename-input")) return;
    const input = h("input", {
      class: "chat-item__rename-input",
      "data-testid": "rename-chat-input",
      "aria-label": "New chat title",
      maxlength: "80",
      value: chat.title || "",
    });
    const form = h("form", { class: "chat-item__rename" }, input);
    const done = () => form.remove();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const next = input.value.trim();
      if (!next || next === chat.title) return done();
      try {
        const updated = await request(`/chats/${encodeURIComponent(chat.id)}`, {
          method: "PATCH",
          body: { title: next },
        });
        chat.title = updated?.title ?? next;
        title.textContent = chat.title;
        notify("Chat renamed.", { tone: "success" });
        done();
        li.querySelector("[data-testid='rename-chat']")?.focus();
      } catch (error) {
        notifyError(error);
      }
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        done();
        li.querySelector("[data-testid='rename-chat']")?.focus();
      }
    });
    li.append(form);
    input.focus();
    input.select();
  }

  // The newest message moves its chat to the top and becomes its time.
  whileShown(element, "chat.message", ({ message }) => {
    const li = message && list.querySelector(`[data-chat-id="${CSS.escape(message.chat_id)}"]`);
    if (!li) return;
    li.querySelector(".chat-row__time")?.replaceWith(rowTime(message.created_at));
    const preview = li.querySelector(".chat-row__preview");
    if (preview && message.content) preview.textContent = previewText(message.content);
    if (list.firstElementChild !== li) list.prepend(li);
  });
  whileShown(element, "reconnect", () => {
    if (failed) load(false);
  });

  load(false);
  return { element, refresh: () => load(false) };
}

function rowTime(iso) {
  const time = liveTime(iso);
  time.classList.add("chat-row__time");
  time.title = `Last message ${fullTime(iso)}`;
  return time;
}

/** One line of the last message (GET /chats sends its first 120 characters). */
function previewText(content) {
  const text = content.replace(/\s+/g, " ").trim();
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

function row(chat, { activeId, compact, onDelete, onRename }) {
  const title = h("span", { class: "chat-row__title" }, chat.title || "Chat");
  const face = h("span", { class: "chat-row__avatar" });
  // Two chats with the same character differ by when they began: say it in full. The narrow
  // sidebar has room for one line only: the time of the last message.
  const started = `Started ${startedAt(chat.created_at)}`;
  const sub = h("span", { class: "chat-row__sub" }, compact ? rowTime(chat.last_message_at) : started);
  let name = chat.title || "this character";
  const fill = (character) => {
    replace(face, avatar(character, "md"));
    name = shortName(character.name);
    title.textContent = compact ? name : character.name;
    // The chat's own title is worth showing only when it says more than the character's name.
    const own = chat.title && chat.title !== character.name ? chat.title : "";
    if (own && !compact) title.textContent = own;
    if (!compact) sub.textContent = [own, started].filter(Boolean).join(" · ");
  };
  const cached = cachedCharacter(chat.character_id);
  if (cached) fill(cached);
  else {
    replace(face, avatar({ id: chat.character_id, name: chat.title || "?" }, "md"));
    loadCharacter(chat.character_id).then(fill, () => {});
  }
  const li = h(
    "li",
    { class: "chat-item", "data-testid": "chat-item", "data-chat-id": chat.id },
    h(
      "a",
      {
        class: "chat-row",
        href: `/chats/${encodeURIComponent(chat.id)}`,
        "aria-current": chat.id === activeId ? "page" : null,
        title: compact ? started : null,
      },
      face,
      h(
        "span",
        { class: "chat-row__text" },
        title,
        // What was said last tells two chats with the same character apart.
        compact
          ? null
          : h(
              "span",
              { class: "chat-row__preview", "data-testid": "chat-preview" },
              previewText(chat.last_message_preview ?? ""),
            ),
        sub,
      ),
      compact ? null : rowTime(chat.last_message_at),
    ),
  );
  if (!compact) {
    li.append(
      h(
        "button",
        {
          type: "button",
          class: "icon-btn chat-item__rename-btn",
          "data-testid": "rename-chat",
          "aria-label": `Rename chat started ${startedAt(chat.created_at)}`,
          title: "Rename chat",
          onclick: () => onRename(chat, li),
        },
        icon("pencil"),
      ),
      h(
        "button",
        {
          type: "button",
          class: "icon-btn chat-item__delete",
          "data-testid": "delete-chat",
          "aria-label": `Delete chat started ${startedAt(chat.created_at)}`,
          title: "Delete chat",
          onclick: () => onDelete(chat, name, li),
        },
        icon("trash"),
      ),
    );
  }
  return li;
}

const startFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});

function startedAt(iso) {
  return iso ? startFormat.format(new Date(iso)) : "";
}
