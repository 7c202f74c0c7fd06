import { publicMessage } from "../../db/repos/chats";
import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { MessageParams, MessagePatch } from "./depth-schemas";
import { MessageSchema } from "./schemas";
import { refuseWhileReplying, tellSession } from "./session-notice";

const route = defineRoute({
  method: "patch",
  path: "/chats/{id}/messages/{message_id}",
  summary: "Fix a message: its selected alternative gets the new text and `edited_at`",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { params: MessageParams, body: jsonRequest(MessagePatch) },
  responses: { 200: jsonResponse(MessageSchema, "The edited message") },
});

export const editChatMessage = routes().openapi(route, async (c) => {
  const { id, message_id } = c.req.valid("param");
  const { content } = c.req.valid("json");
  const owner = userId(c);
  const { chats } = c.var.services.repo;
  const [chat, message] = await Promise.all([chats.get(id, owner), chats.fullMessage(id, message_id)]);
  if (!chat || !message) throw ApiError.notFound(chat ? "message" : "chat");
  await refuseWhileReplying(c.env, owner, id);
  const edited = {
    ...message,
    content,
    swipes: message.swipes.map((swipe, i) => (i === message.swipe_index ? { ...swipe, content } : swipe)),
    edited_at: new Date().toISOString(),
  };
  await chats.saveMessage(edited, owner);
  const body = publicMessage(edited);
  await tellSession(c.env, owner, id, [{ type: "chat.message", message: body }]);
  return c.json(body, 200);
});
