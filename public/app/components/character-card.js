import { h } from "../dom.js";
import { chatCount, excerpt, fillPlaceholders, shortName } from "../format.js";
import { avatar } from "./avatar.js";

const TAGS_ON_TILE = 3;

/**
 * A character tile. The name is the link, stretched over the whole tile (so the tile is one big
 * target with a short accessible name), and the tags are links of their own above it.
 * @param {object} character
 * @param {{testid?: string}} [options]
 */
export function characterCard(character, { testid = "character-item" } = {}) {
  const tags = character.tags ?? [];
  return h(
    "li",
    { class: "char-card", "data-testid": testid, "data-character-id": character.id },
    h(
      "div",
      { class: "char-card__box" },
      avatar(character, "lg"),
      h(
        "span",
        { class: "char-card__body" },
        h(
          "a",
          {
            class: "char-card__link",
            href: `/characters/${encodeURIComponent(character.id)}`,
            title: character.name,
          },
          h("span", { class: "char-card__name" }, shortName(character.name)),
        ),
        epithet(character.name) ? h("span", { class: "char-card__epithet" }, epithet(character.name)) : null,
        h(
          "span",
          { class: "char-card__desc" },
          excerpt(fillPlaceholders(character.description || character.scenario || "", character.name), 110),
        ),
        h(
          "span",
          { class: "char-card__meta" },
          tags.length
            ? h(
                "span",
                { class: "char-card__tags" },
                tags.slice(0, TAGS_ON_TILE).map((tag) =>
                  h(
                    "a",
                    {
                      class: "char-card__tag",
                      href: `/?tag=${encodeURIComponent(tag)}`,
                      "data-testid": "card-tag",
                      "data-tag": tag,
                      "aria-label": `Characters tagged ${tag}`,
                    },
                    `#${tag}`,
                  ),
                ),
              )
            : null,
          h(
            "span",
            {
              class: "char-card__count",
              title: `${(character.chat_count ?? 0).toLocaleString()} chats started`,
            },
            chatCount(character.chat_count),
          ),
        ),
      ),
    ),
  );
}

/** What follows the name, e.g. "Fogbound Apothecary" in "Marrow Vell, Fogbound Apothecary". */
function epithet(name) {
  const rest = name.slice(shortName(name).length).replace(/^,\s*/, "").trim();
  return rest || null;
}
