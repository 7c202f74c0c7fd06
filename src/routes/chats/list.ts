import { defineRoute, jsonResponse, routes } from "../../http/route";
import { ListQuery, Page } from "../../http/schemas";
import { decodeCursor, page } from "../../lib/cursor";
import { userId } from "../../middleware/auth";
import { ChatListItemSchema } from "./schemas";

const route = defineRoute({
  method: "get",
  path: "/chats",
  summary: "The caller's chats, most recent activity first",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { query: ListQuery },
  responses: {
    200: jsonResponse(Page(ChatListItemSchema), "A page of chats, each with a preview of its last message"),
  },
});

export const listChats = routes().openapi(route, async (c) => {
  const q = c.req.valid("query");
  const rows = await c.var.services.repo.chats.list(userId(c), q.limit, decodeCursor(q.cursor));
  return c.json(
    page(rows, q.limit, (chat) => ({ sort: chat.last_message_at, id: chat.id })),
    200,
  );
});
