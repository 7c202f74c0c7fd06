import { base64url, constantTimeEqual, fromBase64urlText, hmacHex } from "../lib/crypto";

/** Seconds a ticket opens the socket for (API: `expires_in`). */
export const TICKET_TTL_S = 30;

export interface TicketClaims {
  /** The user the socket will belong to. */
  sub: string;
  /** Unix seconds. */
  exp: number;
  /** Random; the user's `UserSession` accepts each one once. */
  nonce: string;
  /** The session of the token that asked for it, so logging that session out closes this socket too. */
  sid?: string | null;
}

/**
 * A WebSocket ticket: `<base64url claims>.<HMAC>`, so the bearer token never rides in the
 * socket URL (where proxies, logs and the browser console keep it). Signed with the JWT secret
 * under its own label, so a ticket is never a token nor a token a ticket.
 *
 * @example
 * const ticket = await issueTicket(secret, "usr_1", Date.now()); // "eyJzdWIi...Q.3f9c..."
 */
export async function issueTicket(
  secret: string,
  userId: string,
  nowMs: number,
  sessionId?: string | null,
): Promise<string> {
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const claims: TicketClaims = {
    sub: userId,
    exp: Math.floor(nowMs / 1000) + TICKET_TTL_S,
    nonce,
    ...(sessionId ? { sid: sessionId } : {}),
  };
  const body = base64url(JSON.stringify(claims));
  return `${body}.${await hmacHex(secret, `ws-ticket:${body}`)}`;
}

/** The ticket's claims when its signature holds and it has not expired; null otherwise. Not its single use. */
export async function verifyTicket(
  secret: string,
  ticket: string,
  nowMs: number,
): Promise<TicketClaims | null> {
  const [body, mac, extra] = ticket.split(".");
  if (!body || !mac || extra !== undefined || body.length > 512) return null;
  if (!(await constantTimeEqual(mac, await hmacHex(secret, `ws-ticket:${body}`)))) return null;
  const text = fromBase64urlText(body);
  let claims: Partial<TicketClaims>;
  try {
    claims = JSON.parse(text ?? "null") ?? {};
  } catch {
    return null;
  }
  if (typeof claims.sub !== "string" || typeof claims.exp !== "number" || typeof claims.nonce !== "string") {
    return null;
  }
  if (claims.exp * 1000 <= nowMs) return null;
  const sid = typeof claims.sid === "string" ? claims.sid : null;
  return { sub: claims.sub, exp: claims.exp, nonce: claims.nonce, sid };
}
