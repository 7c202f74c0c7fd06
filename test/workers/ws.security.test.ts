import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/jwt";
import { problem } from "./support/api";
import { call, messagesOf, newCharacter, newChat, newUser, openSocket, upgrade } from "./support/session";

describe("GET /ws without a valid token", () => {
  it("refuses the upgrade with 401 problem+json when no token is given", async () => {
    const res = await upgrade({ token: "" }, "none");
    expect(res.status).toBe(401);
    expect(res.webSocket).toBeNull();
    expect((await problem(res)).code).toBe("unauthorized");
  });

  it("refuses a forged, malformed or expired token in either place", async () => {
    const user = await newUser();
    const [head, payload] = user.token.split(".");
    const forged = `${head}.${payload}.AAAA`;
    const now = Math.floor(Date.now() / 1000);
    const expired = await signAccessToken(
      { sub: user.user.id, iat: now - 100, exp: now - 1 },
      env.JWT_SECRET,
    );
    for (const token of [forged, "not-a-jwt", expired]) {
      for (const via of ["query", "header"] as const) {
        const res = await upgrade({ token }, via);
        expect(res.status, `${via} ${token.slice(0, 12)}`).toBe(401);
        expect((await problem(res)).code).toBe("unauthorized");
      }
    }
  });

  it("answers a plain GET (no upgrade) with 426", async () => {
    const user = await newUser();
    const res = await SELF.fetch(`http://127.0.0.1:8787/api/v1/ws?token=${user.token}`);
    expect(res.status).toBe(426);
    expect(res.headers.get("Upgrade")).toBe("websocket");
    const body = await problem(res);
    expect(body.title).toBe("Upgrade Required");
  });

  it("ignores a client-sent session user header: the token decides whose session it is", async () => {
    const ann = await newUser();
    const bob = await newUser("Bob");
    const character = await newCharacter(ann);
    const chat = await newChat(ann, character.id);
    const res = await SELF.fetch(`http://127.0.0.1:8787/api/v1/ws?token=${bob.token}`, {
      headers: { Upgrade: "websocket", "X-Session-User-Id": ann.user.id },
    });
    expect(res.status).toBe(101);
    const socket = res.webSocket;
    if (!socket) throw new Error("no socket");
    socket.accept();
    const frames: { type: string; code?: string }[] = [];
    const refused = new Promise<void>((resolve) => {
      socket.addEventListener("message", (event) => {
        frames.push(JSON.parse(event.data as string));
        resolve();
      });
    });
    socket.send(JSON.stringify({ type: "chat.send", chat_id: chat.id, content: "hi" }));
    await refused;
    expect(frames[0]).toMatchObject({ type: "error", code: "not_found" });
    socket.close(1000);
  });
});

describe("isolation between users", () => {
  it("refuses chat.send into another user's chat with not_found and stores nothing", async () => {
    const ann = await newUser("Ann");
    const bob = await newUser("Bob");
    const character = await newCharacter(ann);
    const chat = await newChat(ann, character.id);
    const annSocket = await openSocket(ann);
    const bobSocket = await openSocket(bob);

    bobSocket.send({ type: "chat.send", chat_id: chat.id, content: "let me in", client_id: "x" });
    const error = await bobSocket.nextOf("error");
    expect(error).toMatchObject({ code: "not_found", chat_id: chat.id });
    expect(bobSocket.frames).toHaveLength(1);

    // Bob cannot stop Ann's reply either, and sees none of it.
    annSocket.send({ type: "chat.send", chat_id: chat.id, content: "hello [[emu:tokens=30]]" });
    await annSocket.nextOf("chat.delta");
    bobSocket.send({ type: "chat.cancel", chat_id: chat.id });
    const done = await annSocket.nextOf("chat.done");
    expect(done.message.status).toBe("complete");
    expect(bobSocket.frames).toHaveLength(1);
    expect(annSocket.ofType("error")).toEqual([]);

    const contents = (await messagesOf(ann, chat.id)).items.map((m) => m.content);
    expect(contents).not.toContain("let me in");
    expect(contents).toHaveLength(3);
    annSocket.close();
    bobSocket.close();
  });

  it("refuses a chat whose character its author has since made private, storing nothing", async () => {
    const author = await newUser("Author");
    const reader = await newUser("Reader");
    const character = await newCharacter(author, { is_public: true });
    const chat = await newChat(reader, character.id);
    const hidden = await call(author, `/characters/${character.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ is_public: false }),
    });
    expect(hidden.status).toBe(200);
    const socket = await openSocket(reader);
    socket.send({ type: "chat.send", chat_id: chat.id, content: "still there?" });
    expect(await socket.nextOf("error")).toMatchObject({ code: "not_found", chat_id: chat.id });
    expect((await messagesOf(reader, chat.id)).items.map((m) => m.content)).not.toContain("still there?");
    socket.close();
  });

  it("refuses an unknown chat id", async () => {
    const ann = await newUser();
    const socket = await openSocket(ann);
    socket.send({ type: "chat.send", chat_id: "cht_unknown", content: "hi" });
    expect(await socket.nextOf("error")).toMatchObject({ code: "not_found", chat_id: "cht_unknown" });
    socket.close();
  });
});
