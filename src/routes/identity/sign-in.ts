import type { Context } from "hono";
import { accountsOn } from "../../accounts/deps";
import { signIn } from "../../accounts/session-tokens";
import { ApiError } from "../../errors/api-error";
import type { AppEnv } from "../../types";

/**
 * Starts a session for `userId` and builds the sign-in response body
 * `{token, expires_at, refresh_token, user}`; the user's `last_seen_at` moves to now.
 */
export async function signInResponse(c: Context<AppEnv>, userId: string) {
  const { repo, config } = c.var.services;
  const now = new Date();
  const pair = await signIn(accountsOn(repo.sql, config).tokens, userId, c.req.header("User-Agent"), now);
  await repo.users.touch(userId, now.toISOString());
  const user = await repo.users.profile(userId);
  if (!user) throw ApiError.unauthorized("The user no longer exists.");
  return { token: pair.token, expires_at: pair.expires_at, refresh_token: pair.refresh_token, user };
}

/** Closes the sockets one session opened (logout, revocation); waits so the client sees them closed. */
export async function closeSessionSockets(env: Env, userId: string, sid: string): Promise<void> {
  await env.USER_SESSION.get(env.USER_SESSION.idFromName(userId)).closeSession(sid);
}

/** Closes every socket of a user (deleted, or merged into an account). */
export async function closeUserSockets(env: Env, userId: string): Promise<void> {
  await env.USER_SESSION.get(env.USER_SESSION.idFromName(userId)).closeAll();
}
