/**
 * Opaque bearer secrets (refresh tokens) and the only form in which they are stored: a
 * SHA-256 digest. A database leak then yields nothing that can be presented; 256 random
 * bits make a salt pointless (no dictionary to attack).
 */

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * A new refresh token: `rt_` and 32 random bytes in base64url (the prefix lets secret scanners
 * and logs recognise it).
 *
 * @example
 * const token = newOpaqueToken(); // "rt_q3Xv..."
 */
export function newOpaqueToken(): string {
  return `rt_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** Lowercase hex SHA-256 of the token's UTF-8: the value kept in `sessions.refresh_hash`. */
export async function hashOpaqueToken(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  let out = "";
  for (const b of digest) out += b.toString(16).padStart(2, "0");
  return out;
}
