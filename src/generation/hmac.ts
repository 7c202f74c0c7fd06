const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    keys.set(secret, key);
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
  return Array.from(new Uint8Array(mac, 0, bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A key only this isolate knows: comparing MACs under it hides both length and content of
 * the inputs. Made on first use: Workers forbid random values in global scope.
 */
let comparisonSecret: string | undefined;
function isolateSecret(): string {
  comparisonSecret ??= Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16)).join("");
  return comparisonSecret;
}

/**
 * Compares two strings in time independent of where they differ and of their lengths:
 * both are MACed under a per-isolate random key and the digests compared with
 * `crypto.subtle.timingSafeEqual`.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const key = await hmacKey(isolateSecret());
  const [macA, macB] = await Promise.all([
    crypto.subtle.sign("HMAC", key, encoder.encode(a)),
    crypto.subtle.sign("HMAC", key, encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(macA, macB);
}
