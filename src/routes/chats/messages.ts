import { Hono } from "hono";
import { ApiError } from "../../errors/api-error";
import { documentRoute } from "../../http/openapi";
import { Id, Page } from "../../http/schemas";
import { parseOr400, query } from "../../http/validate";
import { requireUser, userId } from "../../middleware/auth";
import type { AppEnv } from "../../types";
import { MessageSchema, MessagesQuery } from "./schemas";

documentRoute({
  method: "get",
  path: "/api/v1/chats/:id/messages",
  summary: "A chat's messages, newest first; `before` (a message id, e.g. `next_cursor`) pages back",
  tag: "chats",
  auth: "user",
  query: MessagesQuery,
  responses: { 200: { description: "A page of messages", schema: Page(MessageSchema) } },
});

export const chatMessages = new Hono<AppEnv>().get("/chats/:id/messages", requireUser, async (c) => {
  const chatId = parseOr400(Id, c.req.param("id"), "chat id", "id");
  const q = query(c, MessagesQuery);
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
  return c.json({ items, next_cursor: rows.length > q.limit && last ? last.id : null });
});
