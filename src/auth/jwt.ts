import { sign, verify } from "hono/jwt";
import { hmacKey } from "../lib/crypto";

export interface AccessClaims {
  sub: string;
  iat: number;
  exp: number;
}

/**
 * What `verifyAccessToken` vouches for: the claims above, and the token's `sid` claim as it
 * was signed (any JSON value, absent on a legacy guest token), for `src/accounts/access-tokens.ts`
 * to check: kept with the verified token, so a repeat parses nothing.
 */
export interface VerifiedClaims extends AccessClaims {
  sid?: unknown;
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

/** Tokens whose signature and claims this isolate has checked, per secret (most a client sends are repeats). */
const verified = new Map<string, Map<string, VerifiedClaims>>();
/** Tokens kept per secret; past it the oldest goes (a token is a few hundred bytes). */
export const MAX_VERIFIED_TOKENS = 4096;

/**
 * Verifies signature, algorithm (pinned to HS256) and expiry against `nowS`. Returns null
 * for any token that is malformed, forged, of another algorithm, expired or lacking a claim.
 * A token verified before under the same secret is not verified again (same string, same
 * answer), but its expiry is checked against `nowS` every time.
 */
export async function verifyAccessToken(
  token: string,
  secret: string,
  nowS: number,
): Promise<VerifiedClaims | null> {
  let known = verified.get(secret);
  const seen = known?.get(token);
  if (seen) return seen.exp > nowS ? { ...seen } : null;
  const claims = await verifySignature(token, secret);
  if (!claims) return null;
  if (!known) {
    known = new Map();
    verified.set(secret, known);
  }
  known.set(token, claims);
  if (known.size > MAX_VERIFIED_TOKENS) known.delete(known.keys().next().value as string);
  return claims.exp > nowS ? { ...claims } : null;
}

/** Signature, algorithm and the presence of the claims; expiry is the caller's. */
async function verifySignature(token: string, secret: string): Promise<VerifiedClaims | null> {
  let claims: Record<string, unknown>;
  try {
    // Expiry is checked below against the caller's clock, so hono's own time checks are off.
    claims = await verify(token, await hmacKey(secret), { alg: ALG, exp: false, iat: false, nbf: false });
  } catch {
    return null;
  }
  const { sub, iat, exp, sid } = claims;
  if (typeof sub !== "string" || typeof iat !== "number" || typeof exp !== "number") return null;
  return sid === undefined ? { sub, iat, exp } : { sub, iat, exp, sid };
}
