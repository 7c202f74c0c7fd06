import { h } from "../dom.js";
import { hueFor, initials } from "../format.js";

/**
 * A character's avatar: the image when there is one, else coloured initials.
 * @param {{id: string, name: string, avatar_url?: string | null}} character
 * @param {"sm" | "md" | "lg" | "xl"} [size]
 */
export function avatar(character, size = "md") {
  const style = `--hue: ${hueFor(character.id)}`;
  if (character.avatar_url) {
    const img = h("img", {
      class: `avatar avatar--${size}`,
      src: character.avatar_url,
      alt: "",
      loading: "lazy",
      decoding: "async",
      style,
    });
    img.addEventListener("error", () => img.replaceWith(placeholder(character, size, style)), { once: true });
    return img;
  }
  return placeholder(character, size, style);
}

function placeholder(character, size, style) {
  return h(
    "span",
    { class: `avatar avatar--${size} avatar--initials`, style, "aria-hidden": "true" },
    initials(character.name),
  );
}
