import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { Page } from "../../http/schemas";
import { userId } from "../../middleware/auth";
import { ChatParams, MessageSchema, MessagesQuery } from "./schemas";

const route = defineRoute({
  method: "get",
  path: "/chats/{id}/messages",
  summary: "A chat's messages, newest first; `before` (a message id, e.g. `next_cursor`) pages back",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { params: ChatParams, query: MessagesQuery },
  responses: { 200: jsonResponse(Page(MessageSchema), "A page of messages") },
});

export const chatMessages = routes().openapi(route, async (c) => {
  const { id: chatId } = c.req.valid("param");
  const q = c.req.valid("query");
  const { chats } = c.var.services.repo;
  const [chat, before] = await Promise.all([
    chats.get(chatId, userId(c)),
    q.before ? chats.message(chatId, q.before) : Promise.resolve(null),
  ]);
  if (!chat) throw ApiError.notFound("chat");
  if (q.before && !before) {
    throw ApiError.invalid("`before` is not a message of this chat.", [
      { path: "query.before", message: "unknown message" },
    ]);
  }
  const rows = await chats.messages(chat.id, q.limit + 1, before ?? undefined);
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return c.json({ items, next_cursor: rows.length > q.limit && last ? last.id : null }, 200);
});
