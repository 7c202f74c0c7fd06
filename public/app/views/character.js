import { getUser, request, requestBlob } from "../api.js";
import { loadCharacter, remember } from "../characters.js";
import { chatImportButton } from "../chat/chat-transfer.js";
import { avatar } from "../components/avatar.js";
import { h, icon, replace } from "../dom.js";
import { chatCount, fillPlaceholders, timeAgo } from "../format.js";
import { notifyError } from "../notify.js";
import { richText } from "../rich-text.js";
import { whileShown } from "../ws.js";

/** `/characters/:id` — who the character is, their greeting, and the way into a chat. */
export function characterView({ id }, _query, { navigate }) {
  const element = h(
    "div",
    { class: "page page--character", "data-testid": "character-detail", "aria-busy": "true" },
    h("h1", { class: "visually-hidden" }, "Loading character"),
    h("div", { class: "loading" }, h("span", { class: "spinner spinner--lg" }), "Loading…"),
  );

  function show() {
    loadCharacter(id)
      .then((character) => {
        document.title = `${character.name} · Edge Art`;
        replace(element, render(character, navigate));
        element.setAttribute("aria-busy", "false");
        element.querySelector("h1")?.focus({ preventScroll: true });
        loadExistingChats(character, element);
      })
      .catch((error) => {
        element.setAttribute("aria-busy", "false");
        element.dataset.failed = String(error.code !== "not_found");
        replace(
          element,
          h(
            "h1",
            { tabindex: "-1" },
            error.code === "not_found" ? "Character not found" : "Couldn’t load this character",
          ),
          h("p", { class: "muted" }, error.message),
          h("a", { href: "/", class: "btn btn--secondary" }, "Back to characters"),
        );
      });
  }
  // A page that failed for want of a connection loads once the connection is back.
  whileShown(element, "reconnect", () => {
    if (element.dataset.failed === "true") {
      delete element.dataset.failed;
      show();
    }
  });
  show();

  return { element, title: "Character" };
}

function render(character, navigate) {
  const startButton = h(
    "button",
    { type: "button", class: "btn btn--primary btn--lg", "data-testid": "start-chat" },
    icon("chat"),
    "Start chat",
  );
  startButton.addEventListener("click", async () => {
    startButton.disabled = true;
    startButton.classList.add("is-busy");
    try {
      const chat = await request("/chats", { method: "POST", body: { character_id: character.id } });
      navigate(`/chats/${encodeURIComponent(chat.id)}`);
    } catch (error) {
      notifyError(error);
      startButton.disabled = false;
      startButton.classList.remove("is-busy");
    }
  });

  const cardPath = `/api/v1/characters/${encodeURIComponent(character.id)}/card`;
  const exportLink = h(
    "a",
    {
      class: "btn btn--secondary",
      href: cardPath,
      download: `${slug(character.name)}.card.json`,
      "data-testid": "export-card",
    },
    icon("download"),
    "Export card",
  );
  // A private character needs our token, which a plain link can't carry: fetch it, then save it.
  exportLink.addEventListener("click", async (event) => {
    event.preventDefault();
    try {
      const blob = await requestBlob(cardPath);
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: exportLink.getAttribute("download") });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      notifyError(error);
    }
  });

  const sections = [
    ["About", character.description],
    ["Personality", character.personality],
    ["Scenario", character.scenario],
  ].filter(([, text]) => text?.trim());

  return [
    h(
      "header",
      { class: "character__hero" },
      avatar(character, "xl"),
      h(
        "div",
        { class: "character__intro" },
        h("h1", { tabindex: "-1", "data-testid": "character-name" }, character.name),
        h(
          "p",
          { class: "character__meta muted" },
          h(
            "span",
            { title: `${(character.chat_count ?? 0).toLocaleString()} chats started` },
            chatCount(character.chat_count),
          ),
          " · ",
          character.owner_id
            ? character.is_public
              ? "Shared by you"
              : "Private — only you can see it"
            : "Public",
          " · ",
          `updated ${timeAgo(character.updated_at)}`,
        ),
        character.tags?.length
          ? h(
              "ul",
              { class: "tags", "aria-label": "Tags" },
              character.tags.map((tag) =>
                h(
                  "li",
                  {},
                  h("a", { class: "chip chip--link", href: `/?tag=${encodeURIComponent(tag)}` }, `#${tag}`),
                ),
              ),
            )
          : null,
        h(
          "div",
          { class: "character__actions" },
          startButton,
          h(
            "a",
            {
              class: "btn btn--secondary",
              href: `/generate?character=${encodeURIComponent(character.id)}`,
              "data-testid": "create-image-for",
            },
            icon("sparkles"),
            "Create image",
          ),
          exportLink,
          chatImportButton({
            character,
            onImported: (chat) => navigate(`/chats/${encodeURIComponent(chat.id)}`),
          }),
          character.owner_id && character.owner_id === getUser()?.id
            ? h(
                "a",
                {
                  class: "btn btn--secondary",
                  href: `/characters/${encodeURIComponent(character.id)}/edit`,
                  "data-testid": "edit-character",
                },
                "Appearance & lorebook",
              )
            : null,
        ),
      ),
    ),
    character.greeting?.trim()
      ? h(
          "section",
          { class: "section", "aria-labelledby": "greeting-heading" },
          h("h2", { id: "greeting-heading", class: "section__title" }, "Greeting"),
          h(
            "div",
            { class: "bubble bubble--assistant bubble--preview", "data-testid": "character-greeting" },
            richText(fillPlaceholders(character.greeting, character.name)),
          ),
        )
      : null,
    h("div", { class: "chat-list-slot" }),
    sections.map(([title, text]) =>
      h(
        "details",
        { class: "disclosure", open: title === "About" ? true : null },
        h("summary", {}, title),
        h("div", { class: "disclosure__body prose" }, richText(fillPlaceholders(text, character.name))),
      ),
    ),
  ];
}

async function loadExistingChats(character, element) {
  try {
    const { items } = await request("/chats", { query: { limit: 100 } });
    const mine = items.filter((chat) => chat.character_id === character.id).slice(0, 5);
    if (mine.length === 0) return;
    remember([character]);
    replace(
      element.querySelector(".chat-list-slot"),
      h(
        "section",
        { class: "section", "aria-labelledby": "continue-heading" },
        h("h2", { id: "continue-heading", class: "section__title" }, "Continue a chat"),
        h(
          "ul",
          { class: "link-list" },
          mine.map((chat) =>
            h(
              "li",
              {},
              h(
                "a",
                { href: `/chats/${encodeURIComponent(chat.id)}` },
                h(
                  "span",
                  {},
                  chat.title && chat.title !== character.name
                    ? chat.title
                    : `Chat started ${timeAgo(chat.created_at)}`,
                ),
                h("span", { class: "muted" }, `active ${timeAgo(chat.last_message_at)}`),
              ),
            ),
          ),
        ),
      ),
    );
  } catch {
    // Only a shortcut; the page works without it.
  }
}

function slug(name) {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "character"
  );
}
