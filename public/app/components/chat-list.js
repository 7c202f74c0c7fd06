import { request } from "../api.js";
import { cachedCharacter, loadCharacter } from "../characters.js";
import { h, replace } from "../dom.js";
import { fullTime, shortName, timeAgo } from "../format.js";
import { avatar } from "./avatar.js";

/**
 * The caller's chats, most recent first, with "load more". Used as the Chats page and as the
 * sidebar next to an open chat.
 * @param {{activeId?: string, compact?: boolean}} [options]
 * @returns {{element: HTMLElement, refresh: () => Promise<void>}}
 */
export function chatList({ activeId, compact = false } = {}) {
  let cursor = null;
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
      cursor = page.next_cursor;
      const rows = page.items.map((chat) => row(chat, activeId, compact));
      if (append) list.append(...rows);
      else replace(list, rows);
      if (!list.querySelector("[data-chat-id]")) {
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
      more.hidden = !cursor;
    } catch (error) {
      if (!append) replace(list, h("li", { class: "empty" }, error.message));
    } finally {
      more.disabled = false;
      list.setAttribute("aria-busy", "false");
    }
  }

  load(false);
  return { element, refresh: () => load(false) };
}

function row(chat, activeId, compact) {
  const name = h("span", { class: "chat-row__title" }, chat.title || "Chat");
  const face = h("span", { class: "chat-row__avatar" });
  const when = timeAgo(chat.last_message_at);
  const sub = h("span", { class: "chat-row__sub" }, when);
  const fill = (character) => {
    replace(face, avatar(character, "md"));
    name.textContent = compact ? shortName(character.name) : character.name;
    // The chat's own title is worth showing only when it says more than the character's name.
    const title = chat.title && chat.title !== character.name ? chat.title : "";
    sub.textContent = [title, compact ? when : `started ${timeAgo(chat.created_at)}`]
      .filter(Boolean)
      .join(" · ");
  };
  const cached = cachedCharacter(chat.character_id);
  if (cached) fill(cached);
  else {
    replace(face, avatar({ id: chat.character_id, name: chat.title || "?" }, "md"));
    loadCharacter(chat.character_id).then(fill, () => {});
  }
  return h(
    "li",
    { "data-testid": "chat-item", "data-chat-id": chat.id },
    h(
      "a",
      {
        class: "chat-row",
        href: `/chats/${encodeURIComponent(chat.id)}`,
        "aria-current": chat.id === activeId ? "page" : null,
      },
      face,
      h("span", { class: "chat-row__text" }, name, sub),
      compact
        ? null
        : h(
            "time",
            {
              class: "chat-row__time",
              datetime: chat.last_message_at,
              title: fullTime(chat.last_message_at),
            },
            when,
          ),
    ),
  );
}
