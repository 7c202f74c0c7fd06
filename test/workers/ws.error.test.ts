import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  MAX_REPLIES_PER_USER,
  MAX_SOCKETS_PER_USER,
  type UserSession,
} from "../../durable-objects/user-session";
import { d1Client } from "../../src/db/d1-client";
import { repositoryOn } from "../../src/db/repository";
import {
  call,
  messagesOf,
  newCharacter,
  newChat,
  newUser,
  openSocket,
  type TestUser,
  upgrade,
} from "./support/session";

async function chatSetup() {
  const user = await newUser();
  const character = await newCharacter(user);
  const chat = await newChat(user, character.id);
  const socket = await openSocket(user);
  return { user, chat, socket };
}

/** Overrides configuration inside the user's session object (the same values wrangler vars set). */
async function overrideSessionEnv(user: TestUser, vars: Record<string, string>) {
  const stub = env.USER_SESSION.get(env.USER_SESSION.idFromName(user.user.id));
  await runInDurableObject(stub, (instance: UserSession) => {
    const current = (instance as unknown as { env: Env }).env;
    Object.defineProperty(instance, "env", { value: { ...current, ...vars }, configurable: true });
  });
}

describe("bad frames", () => {
  const cases: [string, string, string][] = [
    ["not JSON", "{nope", "invalid_request"],
    ["JSON that is not an object", "[1,2]", "invalid_request"],
    ["an unknown type", JSON.stringify({ type: "chat.explode", chat_id: "cht_x" }), "invalid_request"],
    ["no type", JSON.stringify({ chat_id: "cht_x" }), "invalid_request"],
    ["chat.send without content", JSON.stringify({ type: "chat.send", chat_id: "cht_x" }), "invalid_request"],
    [
      "chat.send with empty content",
      JSON.stringify({ type: "chat.send", chat_id: "cht_x", content: "" }),
      "invalid_request",
    ],
    [
      "chat.send with blank content",
      JSON.stringify({ type: "chat.send", chat_id: "cht_x", content: "   " }),
      "invalid_request",
    ],
    [
      "chat.send with 4001 characters",
      JSON.stringify({ type: "chat.send", chat_id: "cht_x", content: "a".repeat(4001) }),
      "invalid_request",
    ],
    [
      "chat.send with a bad chat_id",
      JSON.stringify({ type: "chat.send", chat_id: "../../x", content: "hi" }),
      "invalid_request",
    ],
    [
      "chat.send with a numeric client_id",
      JSON.stringify({ type: "chat.send", chat_id: "cht_x", content: "hi", client_id: 7 }),
      "invalid_request",
    ],
    ["chat.cancel without chat_id", JSON.stringify({ type: "chat.cancel" }), "invalid_request"],
    [
      "a frame over 16 KiB",
      JSON.stringify({ type: "chat.send", chat_id: "cht_x", content: "a".repeat(17 * 1024) }),
      "payload_too_large",
    ],
    [
      "a 16 KiB+ frame of multi-byte text",
      JSON.stringify({ type: "ping", pad: "ж".repeat(8200) }),
      "payload_too_large",
    ],
  ];

  it.each(cases)("answers %s with an error frame and keeps the socket open", async (_name, raw, code) => {
    const user = await newUser();
    const socket = await openSocket(user);
    socket.send(raw);
    const error = await socket.nextOf("error");
    expect(error.code).toBe(code);
    expect(error.detail).toEqual(expect.any(String));
    socket.send({ type: "ping" });
    await socket.nextOf("pong");
    expect(socket.closed).toBeNull();
    socket.close();
  });

  it("refuses binary frames", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    socket.socket.send(new TextEncoder().encode('{"type":"ping"}'));
    expect((await socket.nextOf("error")).code).toBe("invalid_request");
    socket.close();
  });

  it("lists the frame types when the type is unknown", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    socket.send({ type: "chat.explode" });
    expect((await socket.nextOf("error")).detail).toContain("chat.send, chat.cancel, ping");
    socket.close();
  });

  it("names the chat in the error when the frame had a valid chat_id", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    socket.send({ type: "chat.send", chat_id: "cht_abc", content: "" });
    expect(await socket.nextOf("error")).toMatchObject({ code: "invalid_request", chat_id: "cht_abc" });
    socket.close();
  });

  it("stores nothing for a refused chat.send", async () => {
    const { user, chat, socket } = await chatSetup();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "x".repeat(4001) });
    await socket.nextOf("error");
    expect((await messagesOf(user, chat.id)).items).toHaveLength(1);
    socket.close();
  });
});

describe("one reply at a time per chat", () => {
  it("refuses a second chat.send while a reply streams (conflict) and stores only the first", async () => {
    const { user, chat, socket } = await chatSetup();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "first [[emu:tokens=200]]" });
    socket.send({ type: "chat.send", chat_id: chat.id, content: "second", client_id: "c2" });
    expect(await socket.nextOf("error")).toMatchObject({ code: "conflict", chat_id: chat.id });
    await socket.nextOf("chat.delta");
    socket.send({ type: "chat.cancel", chat_id: chat.id });
    await socket.nextOf("chat.done");
    const contents = (await messagesOf(user, chat.id)).items.map((m) => m.content);
    expect(contents).not.toContain("second");
    expect(contents).toContain("first [[emu:tokens=200]]");
    socket.close();
  });

  it("streams in different chats at once", async () => {
    const user = await newUser();
    const character = await newCharacter(user);
    const a = await newChat(user, character.id);
    const b = await newChat(user, character.id);
    const socket = await openSocket(user);
    socket.send({ type: "chat.send", chat_id: a.id, content: "one [[emu:tokens=20]]" });
    socket.send({ type: "chat.send", chat_id: b.id, content: "two [[emu:tokens=20]]" });
    const [doneA, doneB] = await Promise.all([
      socket.nextOf("chat.done", a.id),
      socket.nextOf("chat.done", b.id),
    ]);
    expect(doneA.message.status).toBe("complete");
    expect(doneB.message.status).toBe("complete");
    socket.close();
  });
});

describe("limits per user", () => {
  it("refuses a reply past the per-user limit of concurrent replies (quota_exceeded)", async () => {
    const user = await newUser();
    const character = await newCharacter(user);
    const chats = [];
    for (let i = 0; i <= MAX_REPLIES_PER_USER; i++) chats.push(await newChat(user, character.id));
    const socket = await openSocket(user);
    for (const chat of chats)
      socket.send({ type: "chat.send", chat_id: chat.id, content: "go [[emu:tokens=200]]" });
    const last = chats[MAX_REPLIES_PER_USER]?.id;
    expect(await socket.nextOf("error", last)).toMatchObject({ code: "quota_exceeded", chat_id: last });
    for (const chat of chats) socket.send({ type: "chat.cancel", chat_id: chat.id });
    await Promise.all(
      chats.slice(0, MAX_REPLIES_PER_USER).map((chat) => socket.nextOf("chat.done", chat.id)),
    );
    socket.close();
  });

  it("refuses more than the per-user number of open sockets with 429", async () => {
    const user = await newUser();
    const sockets: WebSocket[] = [];
    for (let batch = 0; batch < MAX_SOCKETS_PER_USER; batch += 20) {
      const opened = await Promise.all(
        Array.from({ length: Math.min(20, MAX_SOCKETS_PER_USER - batch) }, () =>
          upgrade({ token: user.token }),
        ),
      );
      for (const res of opened) {
        expect(res.status).toBe(101);
        res.webSocket?.accept();
        if (res.webSocket) sockets.push(res.webSocket);
      }
    }
    const refused = await upgrade({ token: user.token });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: "quota_exceeded" });
    for (const socket of sockets) socket.close(1000);
  }, 30_000);
});

describe("deleting a chat mid-reply", () => {
  it("stops the reply and stores nothing more", async () => {
    const { user, chat, socket } = await chatSetup();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "long one [[emu:tokens=300]]" });
    await socket.nextOf("chat.delta");
    expect((await call(user, `/chats/${chat.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await socket.nextOf("error")).toMatchObject({ code: "not_found", chat_id: chat.id });
    const repo = repositoryOn(d1Client(env.DB));
    expect(await repo.chats.messages(chat.id, 10)).toEqual([]);
    expect(socket.ofType("chat.done")).toEqual([]);
    socket.close();
  });
});

describe("a deleted chat", () => {
  it("refuses chat.send after the chat is deleted, even on a socket that used it", async () => {
    const { user, chat, socket } = await chatSetup();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "hi [[emu:tokens=2]]" });
    await socket.nextOf("chat.done");
    expect((await call(user, `/chats/${chat.id}`, { method: "DELETE" })).status).toBe(204);
    socket.send({ type: "chat.send", chat_id: chat.id, content: "still there?" });
    expect(await socket.nextOf("error")).toMatchObject({ code: "not_found", chat_id: chat.id });
    const repo = repositoryOn(d1Client(env.DB));
    expect(await repo.chats.messages(chat.id, 10)).toEqual([]);
    socket.close();
  });
});

describe("cancel", () => {
  it("stops the reply mid-stream and keeps what was streamed as cancelled", async () => {
    const { user, chat, socket } = await chatSetup();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "a long tale [[emu:tokens=200]]" });
    await socket.next(() => socket.ofType("chat.delta").length >= 2);
    socket.send({ type: "chat.cancel", chat_id: chat.id });
    const done = await socket.nextOf("chat.done");
    const deltas = socket.ofType("chat.delta");
    expect(done.message.status).toBe("cancelled");
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas.length).toBeLessThan(200);
    expect(done.message.content).toBe(deltas.map((d) => d.delta).join(""));
    const stored = (await messagesOf(user, chat.id)).items[0];
    expect(stored).toMatchObject({ id: done.message.id, status: "cancelled", content: done.message.content });
    socket.close();
  });

  it("ignores chat.cancel when nothing is streaming", async () => {
    const { chat, socket } = await chatSetup();
    socket.send({ type: "chat.cancel", chat_id: chat.id });
    socket.send({ type: "ping" });
    await socket.nextOf("pong");
    expect(socket.ofType("error")).toEqual([]);
    socket.close();
  });
});

describe("model failures", () => {
  it("reports an upstream error (chat=error) and stores the empty reply as failed", async () => {
    const { user, chat, socket } = await chatSetup();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "hello [[emu:chat=error]]" });
    const error = await socket.nextOf("error");
    expect(error).toMatchObject({ code: "upstream_unavailable", chat_id: chat.id });
    expect(error.detail).not.toContain("test-llm-key");
    const done = await socket.nextOf("chat.done");
    expect(done.message).toMatchObject({ status: "failed", content: "" });
    const [reply, asked] = (await messagesOf(user, chat.id)).items;
    expect(reply).toMatchObject({ role: "assistant", status: "failed" });
    expect(asked).toMatchObject({ role: "user", content: "hello [[emu:chat=error]]" });
    socket.close();
  });

  it("keeps what was streamed when the connection drops mid-reply (chat=midfail)", async () => {
    const { user, chat, socket } = await chatSetup();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "hello [[emu:chat=midfail;tokens=30]]" });
    expect(await socket.nextOf("error")).toMatchObject({ code: "upstream_unavailable", chat_id: chat.id });
    const done = await socket.nextOf("chat.done");
    const deltas = socket.ofType("chat.delta");
    expect(deltas.length).toBeGreaterThanOrEqual(1);
    expect(done.message.status).toBe("failed");
    expect(done.message.content).toBe(deltas.map((d) => d.delta).join(""));
    expect((await messagesOf(user, chat.id)).items[0]).toMatchObject({
      status: "failed",
      content: done.message.content,
    });
    socket.close();
  });

  it("gives up on a model that stalls (LLM_STALL_TIMEOUT_MS) instead of hanging", async () => {
    const { user, chat, socket } = await chatSetup();
    await overrideSessionEnv(user, { LLM_STALL_TIMEOUT_MS: "300" });
    const started = Date.now();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "hello [[emu:chat=stall]]" });
    const error = await socket.nextOf("error", undefined, 3000);
    expect(error).toMatchObject({ code: "upstream_unavailable", chat_id: chat.id });
    expect(error.detail).toContain("300 ms");
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await socket.nextOf("chat.done")).message.status).toBe("failed");
    socket.close();
  });

  it("caps the whole reply (LLM_REPLY_TIMEOUT_MS) even while tokens keep coming", async () => {
    const { user, chat, socket } = await chatSetup();
    await overrideSessionEnv(user, { LLM_REPLY_TIMEOUT_MS: "250" });
    socket.send({ type: "chat.send", chat_id: chat.id, content: "hello [[emu:tokens=400]]" });
    const error = await socket.nextOf("error", undefined, 3000);
    expect(error.detail).toContain("250 ms");
    const done = await socket.nextOf("chat.done");
    expect(done.message.status).toBe("failed");
    expect(done.message.content.length).toBeGreaterThan(0);
    socket.close();
  });
});
