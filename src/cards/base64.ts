const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const PAD = 0x3d;
const ENCODE = Uint8Array.from(ALPHABET, (char) => char.charCodeAt(0));
/** Sextet value per ASCII code: 0..63, WHITESPACE, or INVALID. */
const DECODE = new Uint8Array(256).fill(0xff);
const INVALID = 0xff;
const WHITESPACE = 0xfe;
for (let i = 0; i < ENCODE.length; i++) {
  DECODE[ENCODE[i] ?? 0] = i;
}
for (const space of [0x09, 0x0a, 0x0c, 0x0d, 0x20]) {
  DECODE[space] = WHITESPACE;
}

/*
 * Base64 on bytes in both directions, with no intermediate string: a card can be
 * megabytes, and building binary strings for atob/btoa costs far more than a table lookup.
 */

/**
 * Standard base64 with padding, as ASCII bytes.
 *
 * @example new TextDecoder().decode(encodeBase64(new TextEncoder().encode("hi"))) // "aGk="
 */
export function encodeBase64(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const triple = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out[o++] = ENCODE[triple >>> 18] ?? 0;
    out[o++] = ENCODE[(triple >>> 12) & 63] ?? 0;
    out[o++] = ENCODE[(triple >>> 6) & 63] ?? 0;
    out[o++] = ENCODE[triple & 63] ?? 0;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const triple = ((bytes[i] ?? 0) << 16) | (rest === 2 ? (bytes[i + 1] ?? 0) << 8 : 0);
    out[o++] = ENCODE[triple >>> 18] ?? 0;
    out[o++] = ENCODE[(triple >>> 12) & 63] ?? 0;
    out[o++] = rest === 2 ? (ENCODE[(triple >>> 6) & 63] ?? 0) : PAD;
    out[o++] = PAD;
  }
  return out;
}

/**
 * Decodes base64 given as ASCII bytes, as forgivingly as `atob`: ASCII whitespace is
 * skipped and padding may be missing. Returns null for anything that is not base64.
 *
 * @example decodeBase64(new TextEncoder().encode("aGk")) // Uint8Array [104, 105]
 */
export function decodeBase64(ascii: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(Math.floor((ascii.length * 3) / 4));
  let o = 0;
  let bits = 0;
  let sextets = 0;
  let padding = 0;
  for (let i = 0; i < ascii.length; i++) {
    const code = ascii[i] ?? 0;
    const value = DECODE[code] ?? INVALID;
    if (value === WHITESPACE) {
      continue;
    }
    if (code === PAD) {
      padding++;
      continue;
    }
    if (value === INVALID || padding > 0) {
      return null;
    }
    bits = ((bits << 6) | value) & 0xffffff;
    sextets++;
    if (sextets % 4 === 0) {
      out[o++] = bits >>> 16;
      out[o++] = (bits >>> 8) & 0xff;
      out[o++] = bits & 0xff;
    }
  }
  const tail = sextets % 4;
  if (tail === 1 || padding > 2 || (padding > 0 && (tail + padding) % 4 !== 0)) {
    return null;
  }
  if (tail === 2) {
    out[o++] = (bits >>> 4) & 0xff;
  } else if (tail === 3) {
    out[o++] = (bits >>> 10) & 0xff;
    out[o++] = (bits >>> 2) & 0xff;
  }
  return out.subarray(0, o);
}
