import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { MessageParams, SwipeList } from "./depth-schemas";

const route = defineRoute({
  method: "get",
  path: "/chats/{id}/messages/{message_id}/swipes",
  summary: "The alternatives of a message (a user message has one)",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { params: MessageParams },
  responses: { 200: jsonResponse(SwipeList, "The alternatives, by index") },
});

export const messageSwipes = routes().openapi(route, async (c) => {
  const { id, message_id } = c.req.valid("param");
  const { chats } = c.var.services.repo;
  const [chat, message] = await Promise.all([chats.get(id, userId(c)), chats.fullMessage(id, message_id)]);
  if (!chat || !message) throw ApiError.notFound(chat ? "message" : "chat");
  const items = message.swipes.map((swipe, index) => ({
    index,
    content: swipe.content,
    created_at: swipe.created_at,
  }));
  return c.json({ items }, 200);
});
