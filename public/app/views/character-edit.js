import { getUser, request } from "../api.js";
import { remember } from "../characters.js";
import { lorebookEditor } from "../components/lorebook-editor.js";
import { h, replace } from "../dom.js";
import { notify, notifyError } from "../notify.js";

const MAX_APPEARANCE = 1000;

/**
 * `/characters/:id/edit` — what the owner can add to a character for deeper chats: how it looks
 * (used for the pictures it sends) and its lorebook, saved with `PATCH /characters/:id`.
 */
export function characterEditView({ id }, _query, { navigate }) {
  const element = h(
    "div",
    { class: "page page--narrow page--character-edit", "data-testid": "character-edit", "aria-busy": "true" },
    h("h1", { class: "visually-hidden" }, "Loading character"),
    h("div", { class: "loading" }, h("span", { class: "spinner spinner--lg" }), "Loading…"),
  );
  const detailPath = `/characters/${encodeURIComponent(id)}`;

  // Always fresh: a list's copy may predate the lorebook.
  request(detailPath)
    .then((character) => {
      document.title = `Edit ${character.name} · Edge Art`;
      element.setAttribute("aria-busy", "false");
      if (character.owner_id !== getUser()?.id) {
        replace(
          element,
          h("h1", { tabindex: "-1" }, "Only the owner can edit this character"),
          h("a", { href: detailPath, class: "btn btn--secondary" }, `Back to ${character.name}`),
        );
        return;
      }
      replace(element, form(character));
      element.querySelector("h1")?.focus({ preventScroll: true });
    })
    .catch((error) => {
      element.setAttribute("aria-busy", "false");
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

  function form(character) {
    const appearance = h("textarea", {
      id: "edit-appearance",
      class: "input",
      rows: 4,
      maxlength: MAX_APPEARANCE,
      value: character.appearance ?? "",
      placeholder: "e.g. tall elf, silver hair in a braid, green travelling cloak, amber eyes",
      "data-testid": "edit-appearance",
    });
    const lore = lorebookEditor({ book: character.character_book });
    const save = h(
      "button",
      { type: "submit", class: "btn btn--primary", "data-testid": "edit-save-character" },
      "Save",
    );
    return h(
      "form",
      {
        class: "stack",
        onsubmit: async (event) => {
          event.preventDefault();
          let book;
          try {
            book = lore.value;
          } catch (error) {
            notify(error.message, { tone: "error" });
            return;
          }
          save.disabled = true;
          save.classList.add("is-busy");
          try {
            const body = { appearance: appearance.value.trim() || null };
            if (book) body.character_book = book;
            const updated = await request(detailPath, { method: "PATCH", body });
            remember([updated]);
            notify(`${updated.name} saved.`, { tone: "success", timeout: 3000 });
            element.dataset.saved = String(Date.now());
          } catch (error) {
            notifyError(error);
          } finally {
            save.disabled = false;
            save.classList.remove("is-busy");
          }
        },
      },
      h(
        "header",
        { class: "edit-head" },
        h("a", { href: detailPath, class: "link-btn" }, `← ${character.name}`),
        h("h1", { tabindex: "-1" }, `${character.name}: appearance and lorebook`),
      ),
      h(
        "section",
        { class: "section" },
        h("label", { for: "edit-appearance", class: "section__title" }, "Appearance"),
        h(
          "p",
          { class: "field__hint" },
          "How the character looks. Every picture it sends in a chat starts from this. Up to 1,000 characters.",
        ),
        appearance,
      ),
      lore.element,
      h(
        "div",
        { class: "edit-actions" },
        h("button", { type: "button", class: "btn btn--ghost", onclick: () => navigate(detailPath) }, "Back"),
        save,
      ),
    );
  }

  return { element, title: "Edit character" };
}
