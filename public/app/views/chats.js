import { chatList } from "../components/chat-list.js";
import { h } from "../dom.js";

/** `/chats` — every conversation, most recent first. */
export function chatsView() {
  const list = chatList();
  const element = h(
    "div",
    { class: "page page--narrow" },
    h(
      "header",
      { class: "page__head" },
      h("div", {}, h("h1", {}, "Chats"), h("p", { class: "lede" }, "Pick up where you left off.")),
    ),
    list.element,
  );
  return { element, title: "Chats" };
}
