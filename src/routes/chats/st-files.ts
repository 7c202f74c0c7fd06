import { sql } from "drizzle-orm";
import { assertChatRoom } from "../../abuse/store-caps";
import { exportStChat, importStChat, ST_CHAT_MAX_BYTES } from "../../conversation/st-chat-file";
import type { NewMessage } from "../../db/models";
import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { newId } from "../../lib/ids";
import { userId } from "../../middleware/auth";
import { ChatImportQuery } from "./depth-schemas";
import { ChatParams, ChatSchema } from "./schemas";

const exportRoute = defineRoute({
  method: "get",
  path: "/chats/{id}/export",
  summary: "The chat as a SillyTavern chat file (JSONL: a header line, then one line per message)",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { params: ChatParams },
  responses: {
    200: {
      description: "SillyTavern JSONL",
      content: { "application/jsonl": { schema: { type: "string" as const } } },
    },
  },
});

const importRoute = defineRoute({
  method: "post",
  path: "/chats/import",
  summary: "Import a SillyTavern chat file (<= 8 MiB, <= 10 000 messages) as a chat with a character",
  tags: ["chats"],
  zone: "strict",
  auth: "user",
  bodyLimit: ST_CHAT_MAX_BYTES,
  request: {
    query: ChatImportQuery,
    body: {
      required: true,
      content: { "application/jsonl": { schema: { type: "string" as const } } },
    },
  },
  responses: { 201: jsonResponse(ChatSchema, "The imported chat") },
});

export const chatFiles = routes()
  .openapi(exportRoute, async (c) => {
    const { id } = c.req.valid("param");
    const owner = userId(c);
    const { repo } = c.var.services;
    const [chat, character, user, persona] = await Promise.all([
      repo.chats.get(id, owner),
      repo.characters.ofChat(id, owner),
      repo.users.get(owner),
      repo.sql.all<{ persona_name: string | null }>(
        // The persona's name, as {{user}} reads in the chat (the accounts branch writes it).
        sqlPersona(owner),
      ),
    ]);
    if (!chat) throw ApiError.notFound("chat");
    const messages = await repo.chats.fullMessages(id);
    const file = exportStChat({
      user_name: persona[0]?.persona_name?.trim() || user?.display_name || "User",
      character_name: character?.name ?? chat.title,
      created_at: chat.created_at,
      title: chat.title,
      summary: chat.summary,
      messages,
    });
    const name = encodeURIComponent(`${chat.title}.jsonl`);
    // A file, not JSON: the typed helpers would not let a text body through this route's type.
    return new Response(file, {
      status: 200,
      headers: {
        "Content-Type": "application/jsonl; charset=utf-8",
        "Content-Disposition": `attachment; filename*=UTF-8''${name}`,
      },
    }) as never;
  })
  .openapi(importRoute, async (c) => {
    const { character_id } = c.req.valid("query");
    const owner = userId(c);
    const { repo, config } = c.var.services;
    const [character] = await Promise.all([
      repo.characters.get(character_id, owner),
      // An imported chat is a chat: MAX_CHATS_PER_USER holds (API.md, "Stores").
      assertChatRoom(repo, owner, config.MAX_CHATS_PER_USER),
    ]);
    if (!character) throw ApiError.notFound("character");
    const nowMs = Date.now();
    const now = new Date(nowMs).toISOString();
    const file = importStChat(new Uint8Array(await c.req.arrayBuffer()), now);
    const chatId = newId("cht", nowMs);
    // Times never go backwards in a stored chat (it is read in time order); ids follow them.
    let previous = 0;
    const messages: NewMessage[] = file.messages.map((message) => {
      const at = Math.max(Date.parse(message.created_at) || nowMs, previous);
      previous = at;
      const created_at =
        at === Date.parse(message.created_at) ? message.created_at : new Date(at).toISOString();
      return {
        id: newId("msg", at),
        chat_id: chatId,
        role: message.role,
        content: message.content,
        status: message.status,
        created_at,
        swipes: message.swipes,
        swipe_index: message.swipe_index,
        edited_at: message.edited_at,
        attachments: message.attachments,
      };
    });
    const createdAt = Number.isNaN(Date.parse(file.created_at)) ? now : file.created_at;
    const chat = await repo.chats.importChat(
      {
        id: chatId,
        user_id: owner,
        character_id: character.id,
        title: file.title?.trim() || character.name,
        created_at: createdAt,
        last_message_at: messages.at(-1)?.created_at ?? createdAt,
        summary: file.summary,
        summary_through: null,
      },
      messages,
    );
    return c.json(chat, 201);
  });

function sqlPersona(owner: string) {
  return sql`SELECT persona_name FROM users WHERE id = ${owner}`;
}
