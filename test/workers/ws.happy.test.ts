import { describe, expect, it } from "vitest";
import { messagesOf, newCharacter, newChat, newUser, openSocket, upgrade } from "./support/session";

describe("GET /ws upgrade", () => {
  it("opens a socket with ?token=", async () => {
    const user = await newUser();
    const res = await upgrade(user, "query");
    expect(res.status).toBe(101);
    expect(res.webSocket).toBeTruthy();
    res.webSocket?.accept();
    res.webSocket?.close(1000);
  });

  it("opens a socket with an Authorization header", async () => {
    const user = await newUser();
    const res = await upgrade(user, "header");
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close(1000);
  });
});

describe("ping", () => {
  it("answers {type:ping} with {type:pong}", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    socket.send({ type: "ping" });
    expect(await socket.nextOf("pong")).toEqual({ type: "pong" });
    socket.close();
  });
});

describe("chat.send", () => {
  it("echoes the user message with its id, streams deltas, then stores both messages", async () => {
    const user = await newUser("Ann");
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);

    socket.send({
      type: "chat.send",
      chat_id: chat.id,
      content: "Tell me about the dragons of the north",
      client_id: "c-1",
    });
    const echo = await socket.nextOf("chat.message");
    expect(echo.client_id).toBe("c-1");
    expect(echo.message).toMatchObject({
      chat_id: chat.id,
      role: "user",
      content: "Tell me about the dragons of the north",
    });
    expect(echo.message.id).toMatch(/^msg_/);

    const done = await socket.nextOf("chat.done");
    const deltas = socket.ofType("chat.delta");
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(new Set(deltas.map((d) => d.message_id))).toEqual(new Set([done.message.id]));
    expect(done.message).toMatchObject({ chat_id: chat.id, role: "assistant", status: "complete" });
    expect(done.message.content).toBe(deltas.map((d) => d.delta).join(""));

    // Stored and echoed before the reply began; the reply announced as a stored message too.
    const types = socket.frames.map((f) => f.type);
    expect(types.indexOf("chat.message")).toBeLessThan(types.indexOf("chat.delta"));
    expect(socket.ofType("chat.message")[1]?.message).toEqual(done.message);
    expect(types.at(-1)).toBe("chat.done");

    const page = await messagesOf(user, chat.id);
    expect(page.items.map((m) => m.id)).toEqual([done.message.id, echo.message.id, expect.any(String)]);
    expect(page.items[2]).toMatchObject({ role: "assistant", content: "Well met, Ann! I am Tester Bard." });
    socket.close();
  });
});
