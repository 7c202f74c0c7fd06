import { createMiddleware } from "hono/factory";
import { verifySessionAccessToken } from "../accounts/access-tokens";
import { ApiError } from "../errors/api-error";
import { verifyTicket } from "../realtime/ws-ticket";
import type { AppEnv } from "../types";

/** The `Authorization: Bearer` token of a request (`?token=` on WebSocket upgrades is read by routes/ws.ts). */
export function bearerToken(req: Request): string | null {
  const header = req.headers.get("Authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] ?? "";
  }
  return null;
}

/**
 * The token's user and session (`sid`; null for a guest token issued before sessions). A
 * revoked session's access tokens run out within ACCESS_TOKEN_TTL_S (API.md), so requests do
 * not look the session up; its sockets are closed at revocation instead.
 */
async function authenticate(token: string, secret: string) {
  const claims = await verifySessionAccessToken(token, secret, Math.floor(Date.now() / 1000));
  if (!claims) throw ApiError.unauthorized("The bearer token is invalid or expired.");
  return { id: claims.sub, sid: claims.sid };
}

/** 401 unless the request carries a valid token; sets `c.var.user`. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.raw);
  if (!token) throw ApiError.unauthorized();
  c.set("user", await authenticate(token, c.var.services.config.JWT_SECRET));
  await next();
});

/** Like `requireUser` when a token is given (a bad one is still 401); anonymous otherwise. */
export const optionalUser = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.raw);
  if (token !== null) c.set("user", await authenticate(token, c.var.services.config.JWT_SECRET));
  await next();
});

/**
 * For WebSocket upgrades, which browsers cannot give headers: a `?ticket=` (POST /ws/ticket),
 * else the token from `Authorization` or `?token=`; 401 unless valid; sets `c.var.user`.
 */
export const requireSocketUser = createMiddleware<AppEnv>(async (c, next) => {
  const ticket = c.req.query("ticket");
  if (ticket !== undefined) {
    // A ticket (POST /ws/ticket): signature and expiry here, single use in the user's session.
    const claims = await verifyTicket(c.var.services.config.JWT_SECRET, ticket, Date.now());
    if (!claims) throw ApiError.unauthorized("The ticket is invalid or expired; ask for a new one.");
    c.set("user", { id: claims.sub, sid: claims.sid ?? null });
    await next();
    return;
  }
  const token = bearerToken(c.req.raw) ?? c.req.query("token") ?? "";
  if (!token) throw ApiError.unauthorized();
  c.set("user", await authenticate(token, c.var.services.config.JWT_SECRET));
  await next();
});

/** The authenticated user's id, for handlers behind `requireUser`. */
export function userId(c: { var: { user: { id: string } | undefined } }): string {
  const user = c.var.user;
  if (!user) throw ApiError.unauthorized();
  return user.id;
}
