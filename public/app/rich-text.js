import { h } from "./dom.js";

/**
 * Renders roleplay text safely: paragraphs on blank lines, `*actions*` in italics, `**bold**`.
 * Builds nodes (never innerHTML), so message content can't inject markup.
 * @example
 * richText("*waves* Hello!") // <p><em>waves</em> Hello!</p>
 * @param {string} text
 * @returns {HTMLElement[]}
 */
export function richText(text = "") {
  return text
    .split(/\n{2,}/)
    .filter((paragraph) => paragraph.trim())
    .map((paragraph) => h("p", {}, inline(paragraph)));
}

/**
 * Inline formatting only (no paragraphs), for text that is still streaming in.
 * @param {string} text
 */
export function inline(text) {
  const parts = [];
  const pattern = /\*\*([^*\n]+)\*\*|\*([^*\n]+)\*/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(match[1] ? h("strong", {}, match[1]) : h("em", {}, match[2]));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
