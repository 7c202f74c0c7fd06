import { ApiError } from "../errors/api-error";
import { newId } from "../lib/ids";
import { hashOpaqueToken, newOpaqueToken } from "./opaque-token";
import type { SessionRecord, SessionStore } from "./session-store";

/**
 * A session unused this long is over: its refresh token is refused and it leaves the list.
 * Matches the 30-day life of guest tokens and GUEST_RETENTION_DAYS' default.
 */
export const SESSION_IDLE_S = 30 * 24 * 3600;

const USER_AGENT_MAX = 256;

export interface IssuedRefresh {
  session: SessionRecord;
  /** The plain token: handed to the client once, never stored. */
  refreshToken: string;
}

export interface SessionView {
  id: string;
  created_at: string;
  last_used_at: string;
  user_agent: string | null;
  current: boolean;
}

const idleCutoff = (now: Date) => new Date(now.getTime() - SESSION_IDLE_S * 1000).toISOString();

/**
 * Opens a session (a refresh-token family) for a user who just signed in.
 *
 * @example
 * const { session, refreshToken } = await startSession(store, user.id, c.req.header("User-Agent"));
 */
export async function startSession(
  store: SessionStore,
  userId: string,
  userAgent: string | null | undefined,
  now = new Date(),
): Promise<IssuedRefresh> {
  const refreshToken = newOpaqueToken();
  const session: SessionRecord = {
    id: newId("ses", now.getTime()),
    user_id: userId,
    user_agent: userAgent ? userAgent.slice(0, USER_AGENT_MAX) : null,
    created_at: now.toISOString(),
    last_used_at: now.toISOString(),
    revoked_at: null,
  };
  await store.create({
    id: session.id,
    user_id: userId,
    refresh_hash: await hashOpaqueToken(refreshToken),
    user_agent: session.user_agent,
    created_at: session.created_at,
  });
  return { session, refreshToken };
}

/**
 * Spends a refresh token and returns its successor. A token that was already spent means it
 * leaked (or a client refreshed twice): the whole session is revoked, so neither the thief
 * nor the owner can continue it, and the owner signs in again. Every refusal is the same
 * 401, so a caller learns nothing about which case it hit.
 */
export async function rotateRefreshToken(
  store: SessionStore,
  refreshToken: string,
  now = new Date(),
): Promise<IssuedRefresh> {
  const oldHash = await hashOpaqueToken(refreshToken);
  const next = newOpaqueToken();
  const session = await store.rotate(
    oldHash,
    await hashOpaqueToken(next),
    now.toISOString(),
    idleCutoff(now),
  );
  if (session) return { session, refreshToken: next };
  const spentIn = await store.findSpent(oldHash);
  if (spentIn) await store.revoke(spentIn, now.toISOString());
  throw ApiError.unauthorized("The refresh token is invalid, expired or already used.");
}

/**
 * Ends one of the user's sessions (logout, or `DELETE /me/sessions/:id`): its refresh token
 * stops at once. Another user's session, or one already ended, is a 404.
 */
export async function revokeSession(
  store: SessionStore,
  userId: string,
  sessionId: string,
  now = new Date(),
): Promise<void> {
  if (!(await store.revoke(sessionId, now.toISOString(), userId))) throw ApiError.notFound("session");
}

/** The user's live sessions as `GET /me/sessions` shows them, `current` marking the caller's. */
export async function listSessions(
  store: SessionStore,
  userId: string,
  currentSessionId: string | null,
  now = new Date(),
): Promise<SessionView[]> {
  const sessions = await store.listActive(userId, idleCutoff(now));
  return sessions.map((s) => ({
    id: s.id,
    created_at: s.created_at,
    last_used_at: s.last_used_at,
    user_agent: s.user_agent,
    current: s.id === currentSessionId,
  }));
}
