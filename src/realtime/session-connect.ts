/**
 * The Worker -> `UserSession` upgrade hand-off. WebSocket upgrades cannot travel over RPC,
 * so this is the one `fetch` to the object; the Worker has already checked the token and
 * names the user in a header. Durable Objects are reachable only through their namespace
 * binding, so no client can send this request to the object directly.
 */
export const SESSION_USER_HEADER = "X-Session-User-Id";
/** The session (`sid`) of the token that opened the socket; absent for a legacy guest token. */
export const SESSION_ID_HEADER = "X-Session-Id";
/** A ticket's nonce and expiry (`<nonce> <exp>`), for the object to accept it once. */
export const SESSION_TICKET_HEADER = "X-Session-Ticket";

const CONNECT_URL = "https://user-session.internal/connect";

/**
 * The request the Worker forwards to the user's object: a fresh one, so nothing the client
 * sent (its token, any header of this name) reaches the object.
 *
 * @example
 * return stub.fetch(connectRequest(user.id, user.sid));
 */
export function connectRequest(
  userId: string,
  sessionId?: string | null,
  ticket?: { nonce: string; exp: number },
): Request {
  const headers: Record<string, string> = { Upgrade: "websocket", [SESSION_USER_HEADER]: userId };
  if (sessionId) headers[SESSION_ID_HEADER] = sessionId;
  if (ticket) headers[SESSION_TICKET_HEADER] = `${ticket.nonce} ${ticket.exp}`;
  return new Request(CONNECT_URL, { headers });
}
