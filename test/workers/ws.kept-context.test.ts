import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { UserSession } from "../../durable-objects/user-session";
import {
  call,
  type Frame,
  messagesOf,
  newCharacter,
  newChat,
  newUser,
  openSocket,
  type TestSocket,
  type TestUser,
} from "./support/session";

// A chat's turn context is kept in the user's session (memory and its own storage, which
// survives eviction): these tests show that a woken session uses it, and that every change
// made elsewhere reaches the next prompt the model is sent.

interface ChatRequest {
  messages: { role: string; content: string }[];
}

/** The prompt of the last model request whose messages contain `marker`, as one text. */
async function promptWith(marker: string): Promise<string> {
  const res = await fetch(
    `${env.EMULATOR_URL}/_emulator/chat-requests?contains=${encodeURIComponent(marker)}`,
  );
  const requests = (await res.json<{ requests: ChatRequest[] }>()).requests;
  const last = requests.at(-1);
  if (!last) throw new Error(`the model was never asked about ${marker}`);
  return last.messages.map((m) => m.content).join("\n");
}

let turns = 0;
/** One chat.send, waited for to its chat.done; returns a marker unique to this turn's message. */
async function turn(socket: TestSocket, chatId: string, text = "tell me more"): Promise<string> {
  const marker = `mark-${++turns}-${crypto.randomUUID().slice(0, 8)}`;
  const clientId = `k-${turns}`;
  socket.send({
    type: "chat.send",
    chat_id: chatId,
    content: `${text} ${marker} [[emu:tokens=3]]`,
    client_id: clientId,
  });
  const echo = await socket.next((f) => f.type === "chat.message" && f.client_id === clientId);
  await socket.next(
    (f) => f.type === "chat.done" && f.chat_id === chatId && f.message.created_at > echo.message.created_at,
  );
  return marker;
}

/** The message of the chat's latest chat.done. */
function lastReply(socket: TestSocket, chatId: string): Frame["message"] {
  return socket.frames.filter((f) => f.type === "chat.done" && f.chat_id === chatId).at(-1)?.message;
}

/** A model turn on the last reply (regenerate, continue), waited for to the chat.done `done` accepts. */
async function onLastReply(
  socket: TestSocket,
  chatId: string,
  type: "chat.regenerate" | "chat.continue",
  done: (message: Frame["message"]) => boolean,
): Promise<Frame["message"]> {
  const id = lastReply(socket, chatId).id;
  socket.send({ type, chat_id: chatId });
  return (await socket.next((f) => f.type === "chat.done" && f.message.id === id && done(f.message))).message;
}

function sessionOf(user: TestUser) {
  return env.USER_SESSION.get(env.USER_SESSION.idFromName(user.user.id));
}

/** The session's stored turn-context keys. */
async function keptKeys(user: TestUser): Promise<string[]> {
  return runInDurableObject(sessionOf(user), (_instance: UserSession, state) =>
    [...state.storage.kv.list({ prefix: "turn-context" })].map(([key]) => key),
  );
}

async function setUp(fields: Record<string, unknown> = {}) {
  const user = await newUser("Ann");
  const character = await newCharacter(user, { description: "DESC-ONE of the bard.", ...fields });
  const chat = await newChat(user, character.id);
  const socket = await openSocket(user);
  return { user, character, chat, socket };
}

describe("a woken session's turn context", () => {
  it("comes from the session's own storage, not the database, after eviction", async () => {
    const { user, chat, socket } = await setUp();
    const first = await turn(socket, chat.id, "first words");
    expect(await keptKeys(user)).toContain(`turn-context:${chat.id}`);

    // Changed behind the session's back, keeping the newest message: a kept context does not
    // see it, which shows the next prompt was built from storage rather than re-read.
    const [firstMessage] = (await messagesOf(user, chat.id)).items.filter((m) => m.content.includes(first));
    if (!firstMessage) throw new Error("first message not stored");
    await env.DB.prepare("UPDATE chat_history SET content = ? WHERE id = ?")
      .bind("SECRETLY CHANGED", firstMessage.id)
      .run();
    await evictDurableObject(sessionOf(user));

    const second = await turn(socket, chat.id, "second words");
    const prompt = await promptWith(second);
    expect(prompt).toContain(first);
    expect(prompt).not.toContain("SECRETLY CHANGED");
    socket.close();
  });

  it("is read again when a message was written that the session did not see", async () => {
    const { user, chat, socket } = await setUp();
    await turn(socket, chat.id);
    const later = new Date(Date.now() + 60_000).toISOString();
    await env.DB.prepare(
      "INSERT INTO chat_history (id, chat_id, user_id, role, content, status, created_at) VALUES (?, ?, ?, 'user', 'WRITTEN ELSEWHERE', 'complete', ?)",
    )
      .bind(`msg_elsewhere_${crypto.randomUUID().slice(0, 8)}`, chat.id, user.user.id, later)
      .run();
    await evictDurableObject(sessionOf(user));
    const next = await turn(socket, chat.id);
    expect(await promptWith(next)).toContain("WRITTEN ELSEWHERE");
    socket.close();
  });

  it("follows a character edit by its owner, even for another user's session that was never told", async () => {
    const owner = await newUser("Owner");
    const character = await newCharacter(owner, { description: "DESC-ONE of the bard.", is_public: true });
    const reader = await newUser("Reader");
    const chat = await newChat(reader, character.id);
    const socket = await openSocket(reader);
    expect(await promptWith(await turn(socket, chat.id))).toContain("DESC-ONE");

    const patched = await call(owner, `/characters/${character.id}`, {
      method: "PATCH",
      json: { description: "DESC-TWO of the bard." },
    });
    expect(patched.status).toBe(200);
    const awake = await promptWith(await turn(socket, chat.id));
    expect(awake).toContain("DESC-TWO");
    expect(awake).not.toContain("DESC-ONE");

    await call(owner, `/characters/${character.id}`, {
      method: "PATCH",
      json: { description: "DESC-THREE." },
    });
    await evictDurableObject(sessionOf(reader));
    expect(await promptWith(await turn(socket, chat.id))).toContain("DESC-THREE");

    // Made private: the reader's next turn is refused, not served from what was kept.
    await call(owner, `/characters/${character.id}`, { method: "PATCH", json: { is_public: false } });
    socket.send({ type: "chat.send", chat_id: chat.id, content: "still there?" });
    const refused = await socket.next((f) => f.type === "error" && f.chat_id === chat.id);
    expect(refused.code).toBe("not_found");
    socket.close();
  });

  it("follows the persona and the summary, changed over REST", async () => {
    const { user, chat, socket } = await setUp();
    await turn(socket, chat.id);
    const persona = await call(user, "/me", {
      method: "PATCH",
      json: { persona: { name: "Wren", description: "PERSONA-WREN walks the marsh." } },
    });
    expect(persona.status).toBe(200);
    const summary = await call(user, `/chats/${chat.id}`, {
      method: "PATCH",
      json: { summary: "SUMMARY-LUTE lost in the river." },
    });
    expect(summary.status).toBe(200);
    await evictDurableObject(sessionOf(user));
    const prompt = await promptWith(await turn(socket, chat.id));
    expect(prompt).toContain("PERSONA-WREN walks the marsh.");
    expect(prompt).toContain("SUMMARY-LUTE lost in the river.");
    socket.close();
  });

  it("follows an edit and a delete-from-here over REST, awake and after eviction", async () => {
    const { user, chat, socket } = await setUp();
    const first = await turn(socket, chat.id, "first question");
    const second = await turn(socket, chat.id, "second question");
    const page = await messagesOf(user, chat.id);
    const firstMessage = page.items.find((m) => m.content.includes(first));
    const secondMessage = page.items.find((m) => m.content.includes(second));
    if (!firstMessage || !secondMessage) throw new Error("messages not stored");

    const edited = await call(user, `/chats/${chat.id}/messages/${firstMessage.id}`, {
      method: "PATCH",
      json: { content: "EDITED-QUESTION" },
    });
    expect(edited.status).toBe(200);
    const afterEdit = await promptWith(await turn(socket, chat.id));
    expect(afterEdit).toContain("EDITED-QUESTION");
    expect(afterEdit).not.toContain(first);

    const deleted = await call(user, `/chats/${chat.id}/messages/${secondMessage.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    await evictDurableObject(sessionOf(user));
    const afterDelete = await promptWith(await turn(socket, chat.id));
    expect(afterDelete).toContain("EDITED-QUESTION");
    expect(afterDelete).not.toContain(second);
    socket.close();
  });

  it("follows a continue of the last reply", async () => {
    const { chat, socket } = await setUp();
    await turn(socket, chat.id);
    const reply = lastReply(socket, chat.id);
    const continued = await onLastReply(
      socket,
      chat.id,
      "chat.continue",
      (m) => m.content.length > reply.content.length,
    );
    expect(await promptWith(await turn(socket, chat.id))).toContain(continued.content);
    socket.close();
  });

  it("follows a regenerate and a swipe back to the first alternative", async () => {
    const { chat, socket } = await setUp();
    await turn(socket, chat.id);
    // The emulator answers the same user message with the same words: an alternative made by
    // regenerate is then continued, so the two alternatives differ.
    const first = lastReply(socket, chat.id);
    await onLastReply(socket, chat.id, "chat.regenerate", (m) => m.swipe_count === 2);
    const longer = await onLastReply(
      socket,
      chat.id,
      "chat.continue",
      (m) => m.content.length > first.content.length,
    );
    socket.send({ type: "chat.swipe", chat_id: chat.id, message_id: first.id, index: 0 });
    await socket.next(
      (f) => f.type === "chat.message" && f.message.id === first.id && f.message.swipe_index === 0,
    );
    // Five model turns: the burst of the per-user turn limit (API.md).
    const afterSwipe = await promptWith(await turn(socket, chat.id));
    expect(afterSwipe).toContain(first.content);
    expect(afterSwipe).not.toContain(longer.content);
    socket.close();
  });

  it("is removed from storage when the chat is deleted, and all of it when the user is", async () => {
    const { user, chat, socket } = await setUp();
    const other = await newChat(user, chat.character_id);
    await turn(socket, chat.id);
    await turn(socket, other.id);
    expect(await keptKeys(user)).toEqual(
      expect.arrayContaining([`turn-context:${chat.id}`, `turn-context:${other.id}`]),
    );
    expect((await call(user, `/chats/${chat.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await keptKeys(user)).not.toContain(`turn-context:${chat.id}`);
    await runInDurableObject(sessionOf(user), (instance: UserSession) => instance.closeAll());
    expect(await keptKeys(user)).toEqual([]);
  });
});
