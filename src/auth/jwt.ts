const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

export interface AccessClaims {
  sub: string;
  iat: number;
  exp: number;
}

const HEADER = base64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

/**
 * Signs an HS256 JWT with Web Crypto.
 *
 * @example
 * const token = await signAccessToken({ sub: user.id, iat, exp }, env.JWT_SECRET);
 */
export async function signAccessToken(claims: AccessClaims, secret: string): Promise<string> {
  const payload = base64url(encoder.encode(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    encoder.encode(`${HEADER}.${payload}`),
  );
  return `${HEADER}.${payload}.${base64url(new Uint8Array(signature))}`;
}

/**
 * Verifies signature (constant time, by `crypto.subtle.verify`), algorithm and expiry.
 * Returns null for any token that is malformed, forged, of another algorithm or expired.
 */
export async function verifyAccessToken(
  token: string,
  secret: string,
  nowS: number,
): Promise<AccessClaims | null> {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  const headerBytes = fromBase64url(header);
  const payloadBytes = fromBase64url(payload);
  const signatureBytes = fromBase64url(signature);
  if (!headerBytes || !payloadBytes || !signatureBytes) return null;
  try {
    const parsedHeader = JSON.parse(new TextDecoder().decode(headerBytes)) as { alg?: unknown };
    if (parsedHeader.alg !== "HS256") return null;
    const valid = await crypto.subtle.verify(
      "HMAC",
      await hmacKey(secret),
      signatureBytes,
      encoder.encode(`${header}.${payload}`),
    );
    if (!valid) return null;
    const claims = JSON.parse(new TextDecoder().decode(payloadBytes)) as Partial<AccessClaims>;
    if (typeof claims.sub !== "string" || typeof claims.exp !== "number" || typeof claims.iat !== "number")
      return null;
    if (claims.exp <= nowS) return null;
    return claims as AccessClaims;
  } catch {
    return null;
  }
}
