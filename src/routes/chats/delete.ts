import { Hono } from "hono";
import { ApiError } from "../../errors/api-error";
import { documentRoute } from "../../http/openapi";
import { Id } from "../../http/schemas";
import { parseOr400 } from "../../http/validate";
import { requireUser, userId } from "../../middleware/auth";
import { log } from "../../ops/log";
import type { AppEnv } from "../../types";

documentRoute({
  method: "delete",
  path: "/api/v1/chats/:id",
  summary: "Delete the caller's chat and its messages",
  tag: "chats",
  auth: "user",
  responses: { 204: { description: "Deleted" } },
});

export const deleteChat = new Hono<AppEnv>().delete("/chats/:id", requireUser, async (c) => {
  const chatId = parseOr400(Id, c.req.param("id"), "chat id", "id");
  const owner = userId(c);
  if (!(await c.var.services.repo.chats.delete(chatId, owner))) throw ApiError.notFound("chat");
  // The user's session stops a reply still streaming into the chat and forgets the chat.
  // Best effort: the chat is deleted either way, and the session re-reads chats within minutes.
  const session = c.env.USER_SESSION.get(c.env.USER_SESSION.idFromName(owner));
  await session.chatDeleted(chatId).catch((error: unknown) => {
    log.warn("session not told of a deleted chat", { error: String(error) });
  });
  return c.body(null, 204);
});
