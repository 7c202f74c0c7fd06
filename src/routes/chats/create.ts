import type { NewMessage } from "../../db/models";
import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { newId } from "../../lib/ids";
import { userId } from "../../middleware/auth";
import { applyMacros } from "../../realtime/macros";
import { characterCallName, userCallName } from "../../realtime/names";
import { ChatCreate, ChatSchema } from "./schemas";

const route = defineRoute({
  method: "post",
  path: "/chats",
  summary: "Start a chat with a character (its greeting becomes the first message)",
  tags: ["chats"],
  zone: "strict",
  auth: "user",
  request: { body: jsonRequest(ChatCreate) },
  responses: { 201: jsonResponse(ChatSchema, "Created") },
});

export const createChat = routes().openapi(route, async (c) => {
  const { character_id } = c.req.valid("json");
  const owner = userId(c);
  const { repo, config } = c.var.services;
  // The character, the user and their chat count in one query; the checks in the order the
  // three separate reads gave them (the chat cap first).
  const { character, user, chatsOwned } = await repo.characters.chatStart(character_id, owner);
  const max = config.MAX_CHATS_PER_USER;
  if (chatsOwned >= max) {
    // As assertChatRoom (src/abuse/store-caps.ts) answers, from the count read above.
    throw new ApiError(409, "limit_reached", `At most ${max} chats per user; delete one to make room.`);
  }
  if (!character) throw ApiError.notFound("character");
  if (!user) throw ApiError.unauthorized("The user of this token no longer exists.");

  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  const chatId = newId("cht", nowMs);
  const greetingText = applyMacros(character.greeting, {
    char: characterCallName(character.name),
    user: userCallName(user),
  });
  const greeting: NewMessage | null = greetingText.trim()
    ? {
        id: newId("msg", nowMs),
        chat_id: chatId,
        role: "assistant",
        content: greetingText,
        status: "complete",
        created_at: now,
      }
    : null;
  const chat = await repo.chats.create(
    {
      id: chatId,
      user_id: owner,
      character_id: character.id,
      title: character.name,
      created_at: now,
      last_message_at: now,
    },
    greeting,
  );
  return c.json(chat, 201);
});
