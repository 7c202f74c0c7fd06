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
 * @example
 * applyMacros("Hi <user>, I am {{Char}}.", { char: "Marrow", user: "Ann" }) // "Hi Ann, I am Marrow."
 */
export function applyMacros(text: string, names: MacroNames): string {
  return text.replace(MACRO, (_match, curly: string | undefined, angle: string | undefined) => {
    const key = (curly ?? angle ?? "").toLowerCase();
    return key === "char" || key === "bot" ? names.char : names.user;
  });
}
