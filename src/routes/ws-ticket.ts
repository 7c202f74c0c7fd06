import { z } from "zod";
import { defineRoute, jsonResponse, routes } from "../http/route";
import { userId } from "../middleware/auth";
import { issueTicket, TICKET_TTL_S } from "../realtime/ws-ticket";

const TicketSchema = z.object({
  ticket: z.string(),
  expires_in: z.number().int().describe("Seconds the ticket stays valid"),
});

const route = defineRoute({
  method: "post",
  path: "/ws/ticket",
  summary:
    "A single-use ticket for `GET /ws?ticket=` (30 s): browsers need not put the bearer token in the socket URL",
  tags: ["realtime"],
  zone: "api",
  auth: "user",
  responses: { 200: jsonResponse(TicketSchema, "The ticket") },
});

export const wsTicket = routes().openapi(route, async (c) => {
  const ticket = await issueTicket(c.var.services.config.JWT_SECRET, userId(c), Date.now(), c.var.user?.sid);
  c.header("Cache-Control", "no-store");
  return c.json({ ticket, expires_in: TICKET_TTL_S }, 200);
});
