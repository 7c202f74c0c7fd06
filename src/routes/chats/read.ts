import { Hono } from "hono";
import { ApiError } from "../../errors/api-error";
import { documentRoute } from "../../http/openapi";
import { Id } from "../../http/schemas";
import { parseOr400 } from "../../http/validate";
import { requireUser, userId } from "../../middleware/auth";
import type { AppEnv } from "../../types";
import { ChatSchema } from "./schemas";

documentRoute({
  method: "get",
  path: "/api/v1/chats/:id",
  summary: "One of the caller's chats (its character, title and last activity)",
  tag: "chats",
  auth: "user",
  responses: { 200: { description: "The chat", schema: ChatSchema } },
});

/** Lets a client that opens `/chats/:id` directly learn the chat's character in one read. */
export const readChat = new Hono<AppEnv>().get("/chats/:id", requireUser, async (c) => {
  const chatId = parseOr400(Id, c.req.param("id"), "chat id", "id");
  const chat = await c.var.services.repo.chats.get(chatId, userId(c));
  if (!chat) throw ApiError.notFound("chat");
  return c.json(chat);
});
