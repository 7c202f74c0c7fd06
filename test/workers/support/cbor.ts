/**
 * A minimal CBOR encoder (RFC 8949) for the software authenticator: unsigned and negative
 * integers, byte strings, text strings and maps (JS `Map` for COSE's integer keys, plain
 * objects for string keys). Written here rather than borrowed from the library under test,
 * so a decoding bug there cannot hide behind a matching encoding bug.
 */
export type CborValue =
  | number
  | string
  | Uint8Array
  | Map<number | string, CborValue>
  | { [k: string]: CborValue };

function head(major: number, length: number): number[] {
  const m = major << 5;
  if (length < 24) return [m | length];
  if (length < 0x100) return [m | 24, length];
  if (length < 0x10000) return [m | 25, length >> 8, length & 0xff];
  return [m | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}

function encodeInto(value: CborValue, out: number[]): void {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error("cbor: only integers");
    out.push(...(value >= 0 ? head(0, value) : head(1, -1 - value)));
  } else if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    out.push(...head(3, bytes.length), ...bytes);
  } else if (value instanceof Uint8Array) {
    out.push(...head(2, value.length), ...value);
  } else {
    const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
    out.push(...head(5, entries.length));
    for (const [k, v] of entries) {
      encodeInto(k, out);
      encodeInto(v, out);
    }
  }
}

export function cborEncode(value: CborValue): Uint8Array {
  const out: number[] = [];
  encodeInto(value, out);
  return Uint8Array.from(out);
}
