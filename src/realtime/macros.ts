/** Names the Character Card macros stand for. */
export interface MacroNames {
  /** The character's name (`{{char}}`, legacy `<BOT>`). */
  char: string;
  /** The user's display name (`{{user}}`, legacy `<USER>`). */
  user: string;
}

const MACRO = /\{\{(char|user)\}\}|<(bot|user)>/gi;

/**
 * Substitutes `{{char}}`/`{{user}}` and the legacy `<BOT>`/`<USER>`, case-insensitively, as
 * Character Card V1/V2 define them. One pass: a name that itself reads `{{char}}` stays literal.
 *
 * With `limit`, the result is cut to at most `limit` characters and the expansion stops there:
 * `<bot>` (5 characters) may become an 80-character name, so a 20 000-character field could
 * grow 16-fold; bounded, the work and the memory are those of `limit`, never of the whole.
 *
 * @example
 * applyMacros("Hi <user>, I am {{Char}}.", { char: "Marrow", user: "Ann" }) // "Hi Ann, I am Marrow."
 * applyMacros("<bot> ".repeat(10_000), { char: "M".repeat(80), user: "Ann" }, 100).length // 100
 */
export function applyMacros(text: string, names: MacroNames, limit = Number.POSITIVE_INFINITY): string {
  if (limit === Number.POSITIVE_INFINITY) {
    return text.replace(MACRO, (_match, curly: string | undefined, angle: string | undefined) =>
      nameFor(curly ?? angle ?? "", names),
    );
  }
  let out = "";
  let from = 0;
  for (const match of text.matchAll(MACRO)) {
    out += text.slice(from, match.index);
    if (out.length >= limit) return out.slice(0, limit);
    out += nameFor(match[1] ?? match[2] ?? "", names);
    if (out.length >= limit) return out.slice(0, limit);
    from = match.index + match[0].length;
  }
  out += text.slice(from, from + Math.max(0, limit - out.length));
  return out.slice(0, limit);
}

function nameFor(key: string, names: MacroNames): string {
  const lower = key.toLowerCase();
  return lower === "char" || lower === "bot" ? names.char : names.user;
}
