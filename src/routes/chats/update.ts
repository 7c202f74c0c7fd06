import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { ChatPatch } from "./depth-schemas";
import { ChatParams, ChatSchema } from "./schemas";
import { tellSession } from "./session-notice";

const route = defineRoute({
  method: "patch",
  path: "/chats/{id}",
  summary: "Rename a chat or write its long-term summary (null clears it)",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { params: ChatParams, body: jsonRequest(ChatPatch) },
  responses: { 200: jsonResponse(ChatSchema, "The chat") },
});

export const updateChat = routes().openapi(route, async (c) => {
  const { id } = c.req.valid("param");
  const patch = c.req.valid("json");
  const owner = userId(c);
  const { chats } = c.var.services.repo;
  if (!(await chats.get(id, owner))) throw ApiError.notFound("chat");
  // A summary the user writes covers what it covers: the fold mark stays where it was.
  const chat = await chats.update(id, owner, {
    ...(patch.title !== undefined ? { title: patch.title } : {}),
    ...(patch.summary !== undefined ? { summary: patch.summary } : {}),
  });
  if (!chat) throw ApiError.notFound("chat");
  await tellSession(c.env, owner, id, [{ type: "chat.updated", chat }]);
  return c.json(chat, 200);
});
