import { h } from "../dom.js";
import { excerpt, fillPlaceholders, shortName } from "../format.js";
import { avatar } from "./avatar.js";

/**
 * A character tile linking to its page.
 * @param {object} character
 * @param {{testid?: string}} [options]
 */
export function characterCard(character, { testid = "character-item" } = {}) {
  return h(
    "li",
    { class: "char-card", "data-testid": testid, "data-character-id": character.id },
    h(
      "a",
      { class: "char-card__link", href: `/characters/${encodeURIComponent(character.id)}` },
      avatar(character, "lg"),
      h(
        "span",
        { class: "char-card__body" },
        h("span", { class: "char-card__name" }, shortName(character.name)),
        epithet(character.name) ? h("span", { class: "char-card__epithet" }, epithet(character.name)) : null,
        h(
          "span",
          { class: "char-card__desc" },
          excerpt(fillPlaceholders(character.description || character.scenario || "", character.name), 110),
        ),
        h(
          "span",
          { class: "char-card__meta" },
          character.tags?.length
            ? h("span", { class: "char-card__tags" }, character.tags.slice(0, 3).join(" · "))
            : null,
          h("span", { class: "char-card__count", title: "Chats started" }, formatCount(character.chat_count)),
        ),
      ),
    ),
  );
}

function formatCount(count = 0) {
  const text = new Intl.NumberFormat(undefined, { notation: "compact" }).format(count);
  return `${text} ${count === 1 ? "chat" : "chats"}`;
}

/** What follows the name, e.g. "Fogbound Apothecary" in "Marrow Vell, Fogbound Apothecary". */
function epithet(name) {
  const rest = name.slice(shortName(name).length).replace(/^,\s*/, "").trim();
  return rest || null;
}
