const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

let lastMs = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

function encodeTime(ms: number): string {
  let out = "";
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** Increments the random part so ids minted in the same millisecond stay ordered. */
function increment(bytes: Uint8Array): Uint8Array {
  const next = bytes.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    const v = next[i] ?? 0;
    if (v < 255) {
      next[i] = v + 1;
      return next;
    }
    next[i] = 0;
  }
  return next;
}

/**
 * A ULID-style id: 48-bit milliseconds + 80 random bits, lowercase Crockford base32, with a
 * prefix. Ids sort by creation time, so keyset pagination can order by id.
 *
 * @example
 * newId("chr", 1767225600000) // "chr_01kdx..."
 */
export function newId(prefix: string, ms = Date.now()): string {
  if (ms === lastMs) {
    lastRandom = increment(lastRandom);
  } else {
    lastMs = ms;
    lastRandom = crypto.getRandomValues(new Uint8Array(10));
  }
  return `${prefix}_${encodeTime(ms)}${encodeRandom(lastRandom)}`;
}
