import { signSessionAccessToken } from "./access-tokens";
import { rotateRefreshToken, startSession } from "./refresh-tokens";
import type { SessionStore } from "./session-store";

/** What signing in needs: the session store and the two settings of API.md. */
export interface TokenDeps {
  sessions: SessionStore;
  jwtSecret: string;
  accessTtlS: number;
}

/** The token part of every sign-in response (`POST /auth/guest`, passkey login/register, refresh). */
export interface TokenPair {
  token: string;
  expires_at: string;
  refresh_token: string;
  /** Not sent to clients; for the route (e.g. to tag the socket). */
  session_id: string;
}

/**
 * Starts a session for `userId` and returns its first access/refresh pair.
 *
 * @example
 * const pair = await signIn(deps, user.id, c.req.header("User-Agent"));
 * return c.json({ token: pair.token, expires_at: pair.expires_at, refresh_token: pair.refresh_token, user }, 201);
 */
export async function signIn(
  deps: TokenDeps,
  userId: string,
  userAgent: string | null | undefined,
  now = new Date(),
): Promise<TokenPair> {
  const { session, refreshToken } = await startSession(deps.sessions, userId, userAgent, now);
  const access = await signSessionAccessToken(userId, session.id, deps.accessTtlS, deps.jwtSecret, now);
  return {
    token: access.token,
    expires_at: access.expiresAt.toISOString(),
    refresh_token: refreshToken,
    session_id: session.id,
  };
}

/** `POST /auth/refresh`: spends the refresh token (see `rotateRefreshToken`) and returns a new pair. */
export async function refresh(
  deps: TokenDeps,
  refreshToken: string,
  now = new Date(),
): Promise<TokenPair & { user_id: string }> {
  const { session, refreshToken: next } = await rotateRefreshToken(deps.sessions, refreshToken, now);
  const access = await signSessionAccessToken(
    session.user_id,
    session.id,
    deps.accessTtlS,
    deps.jwtSecret,
    now,
  );
  return {
    token: access.token,
    expires_at: access.expiresAt.toISOString(),
    refresh_token: next,
    session_id: session.id,
    user_id: session.user_id,
  };
}
