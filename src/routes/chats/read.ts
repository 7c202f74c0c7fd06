import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { ChatParams, ChatSchema } from "./schemas";

const route = defineRoute({
  method: "get",
  path: "/chats/{id}",
  summary: "One of the caller's chats (its character, title and last activity)",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { params: ChatParams },
  responses: { 200: jsonResponse(ChatSchema, "The chat") },
});

/** Lets a client that opens `/chats/:id` directly learn the chat's character in one read. */
export const readChat = routes().openapi(route, async (c) => {
  const { id } = c.req.valid("param");
  const chat = await c.var.services.repo.chats.get(id, userId(c));
  if (!chat) throw ApiError.notFound("chat");
  return c.json(chat, 200);
});
