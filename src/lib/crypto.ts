/**
 * The one home of the service's small Web Crypto helpers: hex and base64url encodings, a
 * per-isolate cache of HMAC keys, HMAC and SHA-256 digests, and a constant-time comparison.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Bytes = ArrayBuffer | Uint8Array;

const view = (bytes: Bytes) => (bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));

/**
 * Lowercase hex of `bytes`.
 *
 * @example
 * hex(new Uint8Array([1, 255])) // "01ff"
 */
export function hex(bytes: Bytes): string {
  let out = "";
  for (const b of view(bytes)) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Unpadded base64url (RFC 4648 §5) of bytes, or of a string's UTF-8.
 *
 * @example
 * base64url("[1,\"a\"]") // "WzEsImEiXQ"
 */
export function base64url(input: Bytes | string): string {
  const bytes = typeof input === "string" ? encoder.encode(input) : view(input);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The UTF-8 text that `base64url` encoded, or null for anything that is not base64url. */
export function fromBase64urlText(text: string): string | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return decoder.decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();

/**
 * The HMAC-SHA256 key for `secret`, imported once per isolate (secrets are few and fixed:
 * JWT, webhook, image-key), usable to sign and to verify.
 */
export function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    hmacKeys.set(secret, key);
  }
  return key;
}

/**
 * HMAC-SHA256 of `message` under `secret`, as lowercase hex, cut to `bytes` bytes.
 *
 * @example
 * await hmacHex("secret", "image-key:gen_01...", 20) // 40 hex characters
 */
export async function hmacHex(secret: string, message: string, bytes = 32): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message));
  return hex(new Uint8Array(mac, 0, bytes));
}

/**
 * SHA-256 of bytes, or of a string's UTF-8, as lowercase hex.
 *
 * @example
 * await sha256Hex("") // "e3b0c442..."
 */
export async function sha256Hex(input: ArrayBuffer | Uint8Array<ArrayBuffer> | string): Promise<string> {
  const data = typeof input === "string" ? encoder.encode(input) : input;
  return hex(await crypto.subtle.digest("SHA-256", data));
}

/**
 * Compares two secrets in time independent of where they differ and of their lengths: both
 * are hashed to 32 bytes first and the digests compared with `crypto.subtle.timingSafeEqual`.
 *
 * @example
 * await constantTimeEqual(given, expected) // true | false
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [digestA, digestB] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(digestA, digestB);
}
