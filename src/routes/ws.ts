import { Hono } from "hono";
import { verifyAccessToken } from "../auth/jwt";
import { ApiError } from "../errors/api-error";
import { documentRoute } from "../http/openapi";
import { bearerToken } from "../middleware/auth";
import { connectRequest } from "../realtime/session-connect";
import type { AppEnv } from "../types";

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

documentRoute({
  method: "get",
  path: "/api/v1/ws",
  summary:
    "The real-time session (WebSocket): chat.send / chat.cancel / ping in; chat.message, chat.delta, chat.done, generation.updated, error out. Token in Authorization or ?token=",
  tag: "realtime",
  auth: "user",
  responses: {
    101: { description: "Switching Protocols: the socket is open" },
    426: { description: "Not a WebSocket upgrade" },
  },
});

/**
 * Authenticates the upgrade (browsers cannot set headers on one, hence `?token=`), then
 * hands it to the user's `UserSession` object, which holds every socket of that user.
 */
export const ws = new Hono<AppEnv>().get("/ws", async (c) => {
  const token = bearerToken(c.req.raw) ?? c.req.query("token") ?? "";
  const claims = token
    ? await verifyAccessToken(token, c.var.services.config.JWT_SECRET, Math.floor(Date.now() / 1000))
    : null;
  if (!claims) throw ApiError.unauthorized(token ? "The bearer token is invalid or expired." : undefined);
  c.set("user", { id: claims.sub });
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") throw new UpgradeRequired();
  const session = c.env.USER_SESSION.get(c.env.USER_SESSION.idFromName(claims.sub));
  return session.fetch(connectRequest(claims.sub));
});
