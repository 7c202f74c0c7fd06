import { ApiError } from "../../errors/api-error";
import { defineRoute, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { MessageParams } from "./depth-schemas";
import { refuseWhileReplying, tellSession } from "./session-notice";

const route = defineRoute({
  method: "delete",
  path: "/chats/{id}/messages/{message_id}",
  summary: "Delete from here: the message and every later one",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { params: MessageParams },
  responses: { 204: { description: "Deleted" } },
});

export const deleteChatMessages = routes().openapi(route, async (c) => {
  const { id, message_id } = c.req.valid("param");
  const owner = userId(c);
  const { chats } = c.var.services.repo;
  const [chat, message] = await Promise.all([chats.get(id, owner), chats.message(id, message_id)]);
  if (!chat || !message) throw ApiError.notFound(chat ? "message" : "chat");
  await refuseWhileReplying(c.env, owner, id);
  const ids = await chats.deleteFrom(id, owner, message);
  await tellSession(c.env, owner, id, [{ type: "chat.messages_deleted", chat_id: id, message_ids: ids }]);
  return c.body(null, 204);
});
