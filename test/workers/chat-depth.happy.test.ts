import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api } from "./support/api";
import {
  call,
  messagesOf,
  newCharacter,
  newChat,
  newUser,
  openSocket,
  type TestSocket,
} from "./support/session";

let sent = 0;
/** One chat.send and its own reply (the socket keeps earlier frames: match this turn's). */
async function exchange(socket: TestSocket, chatId: string, content: string) {
  const clientId = `c-${++sent}`;
  socket.send({ type: "chat.send", chat_id: chatId, content, client_id: clientId });
  const echo = await socket.next((f) => f.type === "chat.message" && f.client_id === clientId);
  return (
    await socket.next(
      (f) => f.type === "chat.done" && f.chat_id === chatId && f.message.created_at > echo.message.created_at,
    )
  ).message;
}

describe("alternatives over the socket", () => {
  it("regenerates on the last reply's id, swipes between alternatives, and every socket sees it", async () => {
    const user = await newUser("Ann");
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    const other = await openSocket(user);
    const first = await exchange(socket, chat.id, "Sing me something");
    expect(first).toMatchObject({ swipe_index: 0, swipe_count: 1, edited_at: null, attachments: [] });

    socket.send({ type: "chat.regenerate", chat_id: chat.id });
    const regenerated = await socket.next((f) => f.type === "chat.done" && f.message.swipe_count === 2);
    expect(regenerated.message).toMatchObject({ id: first.id, swipe_index: 1, swipe_count: 2 });
    const deltas = socket.ofType("chat.delta").filter((d) => d.message_id === first.id);
    expect(deltas.length).toBeGreaterThan(0);

    const swipes = await (await call(user, `/chats/${chat.id}/messages/${first.id}/swipes`)).json<{
      items: { index: number; content: string }[];
    }>();
    expect(swipes.items.map((s) => s.index)).toEqual([0, 1]);
    expect(swipes.items[0]?.content).toBe(first.content);
    expect(swipes.items[1]?.content).toBe(regenerated.message.content);

    socket.send({ type: "chat.swipe", chat_id: chat.id, message_id: first.id, index: 0 });
    const seen = await other.next(
      (f) =>
        f.type === "chat.message" &&
        f.message.id === first.id &&
        f.message.swipe_index === 0 &&
        f.message.swipe_count === 2,
    );
    expect(seen.message.content).toBe(first.content);
    const [stored] = (await messagesOf(user, chat.id, "?limit=1")).items;
    expect(stored).toMatchObject({ id: first.id, swipe_index: 0, swipe_count: 2, content: first.content });

    socket.send({ type: "chat.swipe", chat_id: chat.id, message_id: first.id, index: 7 });
    const refused = await socket.nextOf("error", chat.id);
    expect(refused.code).toBe("invalid_request");
    socket.close();
    other.close();
  });

  it("continues the last reply: the same message, longer", async () => {
    const user = await newUser("Ann");
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    const first = await exchange(socket, chat.id, "Tell me a story");
    socket.send({ type: "chat.continue", chat_id: chat.id });
    const continued = await socket.next(
      (f) => f.type === "chat.done" && f.message.id === first.id && f.message.content !== first.content,
    );
    expect(continued.message.content.startsWith(first.content)).toBe(true);
    expect(continued.message.content.length).toBeGreaterThan(first.content.length);
    expect(continued.message.swipe_count).toBe(1);
    socket.close();
  });

  it("refuses regenerate when the chat does not end with a reply", async () => {
    const user = await newUser("Ann");
    const character = await newCharacter(user, { greeting: "" });
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    socket.send({ type: "chat.regenerate", chat_id: chat.id });
    expect((await socket.nextOf("error", chat.id)).code).toBe("invalid_request");
    socket.close();
  });
});

describe("edits, delete from here, summary and the prompt preview", () => {
  it("an edit reaches the model's history and every socket; delete removes that message and later ones", async () => {
    const user = await newUser("Ann");
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    await exchange(socket, chat.id, "first question");
    await exchange(socket, chat.id, "second question");
    const page = await messagesOf(user, chat.id);
    const firstQuestion = page.items.find((m) => m.content === "first question");
    if (!firstQuestion) throw new Error("no message");

    const res = await call(user, `/chats/${chat.id}/messages/${firstQuestion.id}`, {
      method: "PATCH",
      json: { content: "an edited question" },
    });
    expect(res.status).toBe(200);
    const edited = await res.json<{ content: string; edited_at: string | null }>();
    expect(edited.content).toBe("an edited question");
    expect(edited.edited_at).toEqual(expect.any(String));
    const seen = await socket.next(
      (f) => f.type === "chat.message" && f.message.id === firstQuestion.id && f.message.edited_at !== null,
    );
    expect(seen.message.content).toBe("an edited question");

    const context = await (await call(user, `/chats/${chat.id}/context`)).json<{
      messages: { role: string; content: string }[];
      chars: number;
      budget_chars: number;
    }>();
    const sent = context.messages.map((m) => m.content);
    expect(sent).toContain("an edited question");
    expect(sent).not.toContain("first question");
    expect(context.chars).toBeLessThanOrEqual(context.budget_chars);

    const secondQuestion = page.items.find((m) => m.content === "second question");
    if (!secondQuestion) throw new Error("no message");
    const deleted = await call(user, `/chats/${chat.id}/messages/${secondQuestion.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    const gone = await socket.nextOf("chat.messages_deleted", chat.id);
    expect(gone.message_ids[0]).toBe(secondQuestion.id);
    expect(gone.message_ids).toHaveLength(2);
    const after = await messagesOf(user, chat.id);
    expect(after.items.map((m) => m.content)).not.toContain("second question");
    expect(after.items).toHaveLength(page.items.length - 2);
    socket.close();
  });

  it("a summary written with PATCH goes into the prompt ahead of the history", async () => {
    const user = await newUser("Ann");
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const before = await (await call(user, `/chats/${chat.id}/context`)).json<{ summary_used: boolean }>();
    expect(before.summary_used).toBe(false);
    const res = await call(user, `/chats/${chat.id}`, {
      method: "PATCH",
      json: { summary: "Ann lost her lute in the river." },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: chat.id, summary: "Ann lost her lute in the river." });
    const context = await (await call(user, `/chats/${chat.id}/context`)).json<{
      messages: { role: string; content: string }[];
      summary_used: boolean;
    }>();
    expect(context.summary_used).toBe(true);
    expect(context.messages[0]?.role).toBe("system");
    expect(context.messages[0]?.content).toContain("Ann lost her lute in the river.");
    const bad = await call(user, `/chats/${chat.id}`, { method: "PATCH", json: { summary: 42 } });
    expect(bad.status).toBe(400);
  });

  it("Seraphina's lorebook fires in GET /context when a key comes up", async () => {
    const user = await newUser("Ann");
    const b64 = env.TEST_CARD_PNGS.seraphina;
    if (!b64) throw new Error("no fixture");
    const png = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const imported = await api("/characters/import", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${user.token}`,
        "Content-Type": "image/png",
        "CF-Connecting-IP": user.ip,
      },
      body: png,
    });
    expect(imported.status).toBe(201);
    const seraphina = await imported.json<{ id: string }>();
    const chat = await newChat(user, seraphina.id);
    const socket = await openSocket(user);
    await exchange(socket, chat.id, "What lurks among the shadowfang beasts?");
    const context = await (await call(user, `/chats/${chat.id}/context`)).json<{
      lore: { index: number; name: string | null }[];
      messages: { content: string }[];
    }>();
    expect(context.lore.map((l) => l.index)).toContain(1);
    socket.close();
  });
});

describe("SillyTavern chat files", () => {
  it("export then import over HTTP keeps messages, alternatives, selection and summary", async () => {
    const user = await newUser("Ann");
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    const reply = await exchange(socket, chat.id, "hello there");
    socket.send({ type: "chat.regenerate", chat_id: chat.id });
    await socket.next((f) => f.type === "chat.done" && f.message.swipe_count === 2);
    socket.close();
    await call(user, `/chats/${chat.id}`, { method: "PATCH", json: { summary: "They met." } });

    const exported = await call(user, `/chats/${chat.id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get("Content-Type")).toContain("application/jsonl");
    const file = await exported.text();
    const lines = file.trim().split("\n");
    expect(lines.length).toBe(4);
    expect(JSON.parse(lines[3] ?? "{}")).toMatchObject({ is_user: false, swipe_id: 1 });

    const res = await call(user, `/chats/import?character_id=${character.id}`, {
      method: "POST",
      headers: { "Content-Type": "application/jsonl" },
      body: file,
    });
    expect(res.status).toBe(201);
    const copy = await res.json<{ id: string; summary: string | null }>();
    expect(copy.summary).toBe("They met.");
    const original = (await messagesOf(user, chat.id)).items;
    const imported = (await messagesOf(user, copy.id)).items;
    const strip = (m: object) => {
      const { id: _id, chat_id: _chat, ...rest } = m as Record<string, unknown>;
      return rest;
    };
    expect(imported.map(strip)).toEqual(original.map(strip));
    const swipes = await (await call(user, `/chats/${copy.id}/messages/${imported[0]?.id}/swipes`)).json<{
      items: unknown[];
    }>();
    const originalSwipes = await (await call(user, `/chats/${chat.id}/messages/${reply.id}/swipes`)).json<{
      items: unknown[];
    }>();
    expect(swipes).toEqual(originalSwipes);
    const again = await (await call(user, `/chats/${copy.id}/export`)).text();
    expect(again).toBe(file);
  });

  it("a broken file is 400 naming the line, and nothing is stored", async () => {
    const user = await newUser("Ann");
    const character = await newCharacter(user);
    const file = `${JSON.stringify({ user_name: "Ann", character_name: "B" })}\n{"name":"Ann","is_user":true,"mes":"hi"}\n{not json\n`;
    const before = await (await call(user, "/chats")).json<{ items: unknown[] }>();
    const res = await call(user, `/chats/import?character_id=${character.id}`, {
      method: "POST",
      headers: { "Content-Type": "application/jsonl" },
      body: file,
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect((await res.json<{ detail: string }>()).detail).toMatch(/line 3/);
    const after = await (await call(user, "/chats")).json<{ items: unknown[] }>();
    expect(after.items).toHaveLength(before.items.length);
  });
});
