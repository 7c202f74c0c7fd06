import { Hono } from "hono";
import type { Message } from "../../db/models";
import { ApiError } from "../../errors/api-error";
import { documentRoute } from "../../http/openapi";
import { jsonBody } from "../../http/validate";
import { newId } from "../../lib/ids";
import { requireUser, userId } from "../../middleware/auth";
import { applyMacros } from "../../realtime/macros";
import type { AppEnv } from "../../types";
import { ChatCreate, ChatSchema } from "./schemas";

documentRoute({
  method: "post",
  path: "/api/v1/chats",
  summary: "Start a chat with a character (its greeting becomes the first message)",
  tag: "chats",
  auth: "user",
  body: ChatCreate,
  responses: { 201: { description: "Created", schema: ChatSchema } },
});

export const createChat = new Hono<AppEnv>().post("/chats", requireUser, async (c) => {
  const { character_id } = await jsonBody(c, ChatCreate);
  const owner = userId(c);
  const { repo } = c.var.services;
  const [character, user] = await Promise.all([
    repo.characters.get(character_id, owner),
    repo.users.get(owner),
  ]);
  if (!character) throw ApiError.notFound("character");
  if (!user) throw ApiError.unauthorized("The user of this token no longer exists.");

  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  const chatId = newId("cht", nowMs);
  const greetingText = applyMacros(character.greeting, { char: character.name, user: user.display_name });
  const greeting: Message | null = greetingText.trim()
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
