import { type AccessClaims, signAccessToken, verifyAccessToken } from "../auth/jwt";

/**
 * Access tokens of accounts' sessions: the JWTs of `src/auth/jwt.ts` with one more claim,
 * `sid`, naming the session they were issued for (so logout can close that session's
 * sockets and `GET /me/sessions` can mark the current one). Guest tokens issued before
 * sessions existed carry no `sid` and stay valid until their own `exp`.
 */
export interface SessionClaims extends AccessClaims {
  /** Null for a legacy guest token. */
  sid: string | null;
}

export interface SignedAccessToken {
  token: string;
  expiresAt: Date;
}

/**
 * Signs a short-lived access token for a session.
 *
 * @example
 * const { token, expiresAt } = await signSessionAccessToken(user.id, session.id, config.ACCESS_TOKEN_TTL_S, config.JWT_SECRET);
 */
export async function signSessionAccessToken(
  userId: string,
  sessionId: string,
  ttlS: number,
  secret: string,
  now = new Date(),
): Promise<SignedAccessToken> {
  const iat = Math.floor(now.getTime() / 1000);
  const claims: AccessClaims & { sid: string } = { sub: userId, sid: sessionId, iat, exp: iat + ttlS };
  return { token: await signAccessToken(claims, secret), expiresAt: new Date(claims.exp * 1000) };
}

/** A verified token's `sid` claim: null when absent (a legacy guest token), undefined when unusable. */
function sessionIdOf(sid: unknown): string | null | undefined {
  if (sid === undefined) return null;
  return typeof sid === "string" && sid.length > 0 ? sid : undefined;
}

/**
 * Verifies a bearer token (signature, algorithm, expiry: `verifyAccessToken`) and reads its
 * `sid`. Null for anything `verifyAccessToken` refuses, or a `sid` that is not a string.
 */
export async function verifySessionAccessToken(
  token: string,
  secret: string,
  nowS: number,
): Promise<SessionClaims | null> {
  const claims = await verifyAccessToken(token, secret, nowS);
  if (!claims) return null;
  const sid = sessionIdOf(claims.sid);
  if (sid === undefined) return null;
  return { sub: claims.sub, iat: claims.iat, exp: claims.exp, sid };
}
