/**
 * Key matching as SillyTavern's world info does it (`WorldInfoBuffer.matchKeys`): a key written
 * `/pattern/flags` is a regular expression and overrides every other option; otherwise a plain
 * key matches as a substring (SillyTavern's default, `match_whole_words` off), lower-cased on
 * both sides unless the entry is case-sensitive, or as a whole word when the entry's
 * `extensions.match_whole_words` is true (a key of several words still matches as a substring).
 */

/** Longer regex keys are treated as plain text: a user-supplied pattern runs on every turn. */
export const REGEX_KEY_MAX_CHARS = 200;

/**
 * A quantified group that itself contains a quantifier, e.g. `(a+)+` or `(\w*)*`: the shape of
 * patterns with catastrophic backtracking. Such keys are refused (treated as plain text).
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d+,?\d*\})/;

const REGEX_KEY = /^\/([\s\S]+)\/([dgimsuy]*)$/;

const regexCache = new Map<string, RegExp | null>();

/** The regular expression a `/pattern/flags` key stands for, or null for a plain key. */
export function regexOfKey(key: string): RegExp | null {
  if (key.length > REGEX_KEY_MAX_CHARS || !key.startsWith("/")) {
    return null;
  }
  const cached = regexCache.get(key);
  if (cached !== undefined) {
    return cached;
  }
  const match = REGEX_KEY.exec(key);
  let regex: RegExp | null = null;
  if (match && !NESTED_QUANTIFIER.test(match[1] as string)) {
    try {
      // `g` and `y` make `test` stateful (lastIndex); they mean nothing for "does it occur".
      regex = new RegExp(match[1] as string, (match[2] as string).replace(/[gy]/g, ""));
    } catch {
      regex = null;
    }
  }
  if (regexCache.size > 1000) {
    regexCache.clear();
  }
  regexCache.set(key, regex);
  return regex;
}

export interface MatchOptions {
  caseSensitive: boolean;
  wholeWords: boolean;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Whether `key` occurs in `text` under SillyTavern's rules (see the module comment). */
export function keyMatches(text: string, key: string, options: MatchOptions): boolean {
  const regex = regexOfKey(key);
  if (regex) {
    return regex.test(text);
  }
  const needle = (options.caseSensitive ? key : key.toLowerCase()).trim();
  if (needle === "") {
    return false;
  }
  const haystack = options.caseSensitive ? text : text.toLowerCase();
  if (options.wholeWords && !/\s/.test(needle)) {
    return new RegExp(`(?:^|\\W)${escapeRegex(needle)}(?:$|\\W)`).test(haystack);
  }
  return haystack.includes(needle);
}
