import type { Message } from "../../db/models";
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
  if (!q.before) {
    // The first page: the chat's ownership and its messages in one query.
    const rows = await chats.ownedMessages(chatId, userId(c), q.limit + 1);
    if (!rows) throw ApiError.notFound("chat");
    return c.json(pageOf(rows, q.limit), 200);
  }
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
  return c.json(pageOf(await chats.messages(chat.id, q.limit + 1, before ?? undefined), q.limit), 200);
});

/** A page of `limit` from `rows` (fetched with one more, to know whether a next page exists). */
function pageOf(rows: Message[], limit: number): { items: Message[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next_cursor: rows.length > limit && last ? last.id : null };
}
