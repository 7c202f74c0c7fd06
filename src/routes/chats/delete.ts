import { ApiError } from "../../errors/api-error";
import { defineRoute, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { log } from "../../ops/log";
import { ChatParams } from "./schemas";

const route = defineRoute({
  method: "delete",
  path: "/chats/{id}",
  summary: "Delete the caller's chat and its messages",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { params: ChatParams },
  responses: { 204: { description: "Deleted" } },
});

export const deleteChat = routes().openapi(route, async (c) => {
  const { id: chatId } = c.req.valid("param");
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
