import { sign, verify } from "hono/jwt";
import { hmacKey } from "../lib/crypto";

export interface AccessClaims {
  sub: string;
  iat: number;
  exp: number;
}

/** The only algorithm issued and accepted: a token naming another (or `none`) is refused. */
const ALG = "HS256";

/**
 * Signs an HS256 JWT (`hono/jwt`, with the HMAC key imported once per isolate).
 *
 * @example
 * const token = await signAccessToken({ sub: user.id, iat, exp }, env.JWT_SECRET);
 */
export async function signAccessToken(claims: AccessClaims, secret: string): Promise<string> {
  return sign({ ...claims }, await hmacKey(secret), ALG);
}

/**
 * Verifies signature, algorithm (pinned to HS256) and expiry against `nowS`. Returns null
 * for any token that is malformed, forged, of another algorithm, expired or lacking a claim.
 */
export async function verifyAccessToken(
  token: string,
  secret: string,
  nowS: number,
): Promise<AccessClaims | null> {
  let claims: Record<string, unknown>;
  try {
    // Expiry is checked below against the caller's clock, so hono's own time checks are off.
    claims = await verify(token, await hmacKey(secret), { alg: ALG, exp: false, iat: false, nbf: false });
  } catch {
    return null;
  }
  const { sub, iat, exp } = claims;
  if (typeof sub !== "string" || typeof iat !== "number" || typeof exp !== "number") return null;
  if (!(exp > nowS)) return null;
  return { sub, iat, exp };
}
