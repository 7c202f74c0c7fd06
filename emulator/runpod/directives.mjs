/**
 * Per-request behaviour switches written inside the prompt text as `[[emu:key=value]]`, so tests
 * that share one emulator never interfere. Several may be given, in one tag (`[[emu:a=1;b=2]]`)
 * or in several.
 */

const TAG = /\[\[emu:([^\]]*)\]\]/g;

/** Allowed values per directive key; a function validates and converts free-form values. */
const DIRECTIVES = {
  submit: (value) => {
    const match = /^(429|500|502|503)x(\d{1,4})$/.exec(value);
    return match ? { status: Number(match[1]), times: Number(match[2]) } : undefined;
  },
  job: (value) => (["fail", "hang"].includes(value) ? value : undefined),
  webhook: (value) => (["send", "never", "twice"].includes(value) ? value : undefined),
  gpu: (value) => nonNegativeInteger(value),
  format: (value) => (["sdxl", "comfyui", "comfyui_s3"].includes(value) ? value : undefined),
  chat: (value) => (["error", "midfail", "stall"].includes(value) ? value : undefined),
  tokens: (value) => {
    const count = nonNegativeInteger(value);
    return count !== undefined && count >= 1 && count <= 4096 ? count : undefined;
  },
};

function nonNegativeInteger(value) {
  return /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

export class DirectiveError extends Error {}

/**
 * Reads the directives out of a prompt and returns the prompt without them.
 * @example
 * parseDirectives("a cat [[emu:job=fail;gpu=50]]")
 * // => { text: "a cat", directives: { job: "fail", gpu: 50 } }
 * @param {string} text
 * @returns {{text: string, directives: Record<string, any>}}
 * @throws {DirectiveError} on an unknown key or a malformed value, so a typo in a test never passes silently
 */
export function parseDirectives(text) {
  const directives = {};
  for (const [, body] of text.matchAll(TAG)) {
    for (const pair of body.split(/[;,\s]+/).filter(Boolean)) {
      const [key, value = ""] = pair.split("=", 2);
      const parse = Object.hasOwn(DIRECTIVES, key) ? DIRECTIVES[key] : undefined;
      if (!parse) throw new DirectiveError(`unknown emulator directive "${key}"`);
      const parsed = parse(value);
      if (parsed === undefined)
        throw new DirectiveError(`bad value "${value}" for emulator directive "${key}"`);
      directives[key] = parsed;
    }
  }
  return { text: text.replace(TAG, " ").replace(/\s+/g, " ").trim(), directives };
}

/**
 * Builds a directive tag to append to a prompt.
 * @example
 * `a cat ${directive({ job: "fail", gpu: 50 })}` // "a cat [[emu:job=fail;gpu=50]]"
 * @param {Record<string, string | number>} values
 * @returns {string}
 */
export function directive(values) {
  const body = Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join(";");
  return `[[emu:${body}]]`;
}
