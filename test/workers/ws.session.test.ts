import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { UserSession } from "../../durable-objects/user-session";
import { publishedFrame } from "../../src/realtime/published-event";
import { newCharacter, newChat, newUser, openSocket, type TestUser } from "./support/session";

function sessionOf(user: TestUser) {
  return env.USER_SESSION.get(env.USER_SESSION.idFromName(user.user.id));
}

describe("every socket of a user", () => {
  it("receives the whole exchange started on any of them", async () => {
    const user = await newUser();
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const tab1 = await openSocket(user, "query");
    const tab2 = await openSocket(user, "header");

    tab1.send({
      type: "chat.send",
      chat_id: chat.id,
      content: "hello both [[emu:tokens=12]]",
      client_id: "t1",
    });
    const [done1, done2] = await Promise.all([tab1.nextOf("chat.done"), tab2.nextOf("chat.done")]);
    expect(done2).toEqual(done1);
    for (const tab of [tab1, tab2]) {
      expect(tab.ofType("chat.message")[0]).toMatchObject({ client_id: "t1", message: { role: "user" } });
      expect(tab.ofType("chat.delta")).toHaveLength(12);
    }
    expect(tab2.frames).toEqual(tab1.frames);
    tab1.close();
    tab2.close();
  });

  it("receives generation.updated published for the user, and no one else does", async () => {
    const ann = await newUser();
    const bob = await newUser("Bob");
    const tab1 = await openSocket(ann);
    const tab2 = await openSocket(ann);
    const other = await openSocket(bob);
    const job = {
      id: "gen_1",
      status: "succeeded",
      prompt: "a cat",
      user_id: ann.user.id,
      upstream_id: "runpod-123",
      dead_lettered: false,
      updated_at: "2026-01-01T00:00:00.000Z",
    };
    // biome-ignore lint/suspicious/noExplicitAny: a whole Job, as a careless caller might pass it
    const reached = await sessionOf(ann).publish({ type: "generation.updated", job } as any);
    expect(reached).toBe(2);
    for (const tab of [tab1, tab2]) {
      const frame = await tab.nextOf("generation.updated");
      expect(frame.job).toEqual({ id: "gen_1", status: "succeeded", prompt: "a cat" });
    }
    other.send({ type: "ping" });
    await other.nextOf("pong");
    expect(other.ofType("generation.updated")).toEqual([]);
    tab1.close();
    tab2.close();
    other.close();
  });

  it("counts a socket opened or closed after the session last sent anything", async () => {
    // The session keeps its list of sockets between sends (one per delta): a socket accepted
    // or closed since must still be reached, or skipped.
    const ann = await newUser();
    const pong = { type: "pong" } as never;
    const tab1 = await openSocket(ann);
    expect(await sessionOf(ann).publish(pong)).toBe(1);
    const tab2 = await openSocket(ann);
    expect(await sessionOf(ann).publish(pong)).toBe(2);
    await tab2.nextOf("pong");
    tab1.close();
    // The server answers the close from `webSocketClose`: then the client sees it closed.
    while (tab1.closed === null) await new Promise((r) => setTimeout(r, 10));
    expect(await sessionOf(ann).publish(pong)).toBe(1);
    await tab2.nextOf("pong");
    tab2.close();
  });

  it("refuses a malformed event at the publish boundary", () => {
    // Checked on the function the RPC method runs: a rejecting DO RPC leaks an unhandled
    // rejection under vitest-pool-workers (cloudflare/workers-sdk#14736), failing the run.
    expect(() => publishedFrame({ type: "generation.updated", job: { id: 1 } })).toThrow(
      /not a server event/,
    );
    expect(() => publishedFrame({ type: "chat.hack" })).toThrow(TypeError);
    expect(() => publishedFrame(null)).toThrow(TypeError);
  });

  it("costs one no-op call for a user with no socket", async () => {
    const ann = await newUser();
    expect(
      await sessionOf(ann).publish({
        type: "generation.updated",
        job: { id: "g", status: "queued" },
      } as never),
    ).toBe(0);
  });
});

describe("hibernation", () => {
  it("answers ping through the runtime's auto-response, without waking the object", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    socket.send({ type: "ping" });
    await socket.nextOf("pong");
    const answered = await runInDurableObject(sessionOf(user), (_instance: UserSession, state) => {
      const [ws] = state.getWebSockets();
      return ws ? state.getWebSocketAutoResponseTimestamp(ws) : null;
    });
    expect(answered).toBeInstanceOf(Date);
    socket.close();
  });

  it("keeps each socket's user, session and connect time in its attachment, and no alarm or timer when idle", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    const seen = await runInDurableObject(sessionOf(user), async (_instance: UserSession, state) => ({
      attachments: state.getWebSockets().map((ws) => ws.deserializeAttachment()),
      alarm: await state.storage.getAlarm(),
    }));
    // `sid`: the session of the token that opened it, so logout can close it (accounts.sockets.test.ts).
    expect(seen.attachments).toEqual([
      { user_id: user.user.id, connected_at: expect.any(String), sid: expect.stringMatching(/^ses_/) },
    ]);
    expect(seen.alarm).toBeNull();
    socket.close();
  });

  it("carries on after the object is evicted: sockets, attachments and chat all survive", async () => {
    const user = await newUser();
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    const stub = sessionOf(user);
    const before = await runInDurableObject(stub, (_i: UserSession, state) =>
      state.getWebSockets().map((ws) => ws.deserializeAttachment()),
    );

    await evictDurableObject(stub);

    socket.send({ type: "ping" });
    await socket.nextOf("pong");
    socket.send({ type: "chat.send", chat_id: chat.id, content: "still there? [[emu:tokens=5]]" });
    const done = await socket.nextOf("chat.done");
    expect(done.message.status).toBe("complete");
    const after = await runInDurableObject(stub, (_i: UserSession, state) =>
      state.getWebSockets().map((ws) => ws.deserializeAttachment()),
    );
    expect(after).toEqual(before);
    socket.close();
  });
});
