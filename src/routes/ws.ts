import { ApiError } from "../errors/api-error";
import { defineRoute, routes } from "../http/route";
import { userId } from "../middleware/auth";
import { connectRequest } from "../realtime/session-connect";
import { verifyTicket } from "../realtime/ws-ticket";

class UpgradeRequired extends ApiError {
  constructor() {
    super(426, "invalid_request", "This endpoint speaks WebSocket only; send an upgrade request.", {
      headers: { Upgrade: "websocket", Connection: "Upgrade" },
    });
  }
  override get title(): string {
    return "Upgrade Required";
  }
}

const route = defineRoute({
  method: "get",
  path: "/ws",
  summary:
    "The real-time session (WebSocket): chat.send / chat.cancel / ping in; chat.message, chat.delta, chat.done, generation.updated, error out. A ticket (POST /ws/ticket) in ?ticket=, or the token in Authorization or ?token=",
  tags: ["realtime"],
  zone: "api",
  auth: "socket",
  responses: {
    101: { description: "Switching Protocols: the socket is open" },
    426: { description: "Not a WebSocket upgrade" },
  },
});

/**
 * Authenticates the upgrade (`auth: "socket"` also takes `?token=`, as browsers cannot set
 * headers on one), then hands it to the user's `UserSession` object, which holds every
 * socket of that user.
 */
export const ws = routes().openapi(route, async (c) => {
  const user = userId(c);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") throw new UpgradeRequired();
  const session = c.env.USER_SESSION.get(c.env.USER_SESSION.idFromName(user));
  const ticket = c.req.query("ticket");
  const claims =
    ticket === undefined ? null : await verifyTicket(c.var.services.config.JWT_SECRET, ticket, Date.now());
  return session.fetch(connectRequest(user, c.var.user?.sid, claims ?? undefined));
});
