import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { UserSession } from "../../durable-objects/user-session";
import { newId } from "../../src/lib/ids";
import { TurnLimiter } from "../../src/realtime/turn-limiter";
import {
  messagesOf,
  newCharacter,
  newChat,
  newUser,
  openSocket,
  type TestSocket,
  type TestUser,
} from "./support/session";

interface ChatRequest {
  max_tokens: number | null;
  chars: number;
}

/** What the model (the emulator) was asked, for requests whose messages contain `marker`. */
async function chatRequests(marker: string): Promise<ChatRequest[]> {
  const res = await fetch(
    `${env.EMULATOR_URL}/_emulator/chat-requests?contains=${encodeURIComponent(marker)}`,
  );
  return (await res.json<{ requests: ChatRequest[] }>()).requests;
}

/** Overrides configuration inside the user's session object (the same values wrangler vars set). */
async function overrideSessionEnv(user: TestUser, vars: Record<string, string>) {
  const stub = env.USER_SESSION.get(env.USER_SESSION.idFromName(user.user.id));
  await runInDurableObject(stub, (instance: UserSession) => {
    const current = (instance as unknown as { env: Env }).env;
    Object.defineProperty(instance, "env", { value: { ...current, ...vars }, configurable: true });
  });
}

/** Sends `count` chat.send frames for chats that do not exist and waits for their answers. */
async function sendMadeUp(socket: TestSocket, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId("cht"));
  for (const id of ids) socket.send({ type: "chat.send", chat_id: id, content: "hello" });
  const codes: string[] = [];
  for (const id of ids) codes.push((await socket.nextOf("error", id)).code);
  return codes;
}

async function waitForClose(socket: TestSocket, timeoutMs = 3000) {
  const until = Date.now() + timeoutMs;
  while (!socket.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return socket.closed;
}

describe("chat turns per user", () => {
  it("lets a burst of 5 through and refuses the 6th with rate_limited and retry_after_s", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    const codes = await sendMadeUp(socket, 6);
    expect(codes.slice(0, 5)).toEqual(Array(5).fill("not_found"));
    expect(codes[5]).toBe("rate_limited");
    const refused = socket.ofType("error").find((f) => f.code === "rate_limited");
    // 20 a minute: one turn every 3 s.
    expect(refused?.retry_after_s).toBe(3);
    socket.close();
  });

  it("counts turns for made-up chats before looking them up, so a flood is refused unread", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    const codes = await sendMadeUp(socket, 40);
    expect(codes.filter((c) => c === "not_found")).toHaveLength(5);
    expect(codes.filter((c) => c === "rate_limited")).toHaveLength(35);
    socket.close();
  });

  it("stores nothing and asks the model nothing for a refused turn", async () => {
    const user = await newUser();
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    await sendMadeUp(socket, 5);
    const marker = `refused-${crypto.randomUUID()}`;
    socket.send({ type: "chat.send", chat_id: chat.id, content: marker });
    expect(await socket.nextOf("error", chat.id)).toMatchObject({ code: "rate_limited", chat_id: chat.id });
    socket.send({ type: "ping" });
    await socket.nextOf("pong");
    const stored = (await messagesOf(user, chat.id)).items;
    expect(stored.map((m) => m.content)).not.toContain(marker);
    expect(await chatRequests(marker)).toEqual([]);
    socket.close();
  });

  it("shares one bucket across the user's sockets", async () => {
    const user = await newUser();
    const first = await openSocket(user);
    const second = await openSocket(user);
    await sendMadeUp(first, 5);
    expect(await sendMadeUp(second, 1)).toEqual(["rate_limited"]);
    first.close();
    second.close();
  });

  it("keeps the bucket when the object loses its memory (hibernation, eviction)", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    await sendMadeUp(socket, 5);
    const stub = env.USER_SESSION.get(env.USER_SESSION.idFromName(user.user.id));
    await runInDurableObject(stub, (instance: UserSession, state) => {
      // A woken object starts with a fresh limiter; only storage remembers.
      Object.defineProperty(instance, "turns", { value: new TurnLimiter(state.storage.kv) });
    });
    expect(await sendMadeUp(socket, 1)).toEqual(["rate_limited"]);
    socket.close();
  });

  it("refills at CHAT_TURNS_PER_MIN", async () => {
    const user = await newUser();
    await overrideSessionEnv(user, { CHAT_TURNS_PER_MIN: "30" });
    const socket = await openSocket(user);
    expect((await sendMadeUp(socket, 6))[5]).toBe("rate_limited");
    // 30 a minute: a turn every 2 s.
    expect(socket.ofType("error").find((f) => f.code === "rate_limited")?.retry_after_s).toBe(2);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await sendMadeUp(socket, 1)).toEqual(["not_found"]);
    socket.close();
  });
});

describe("invalid frames", () => {
  it("keeps a socket open through 20 invalid frames and closes it with 1008 at the 21st", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    for (let i = 0; i < 20; i++) socket.send("{nope");
    await socket.next(() => socket.ofType("error").length === 20);
    socket.send({ type: "ping" });
    await socket.nextOf("pong");
    expect(socket.closed).toBeNull();
    socket.send("{nope");
    expect(await waitForClose(socket)).toMatchObject({ code: 1008 });
  });

  it("does not count valid frames", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    for (let i = 0; i < 15; i++) socket.send("[1]");
    for (let i = 0; i < 30; i++) socket.send({ type: "ping" });
    for (let i = 0; i < 5; i++) socket.send("[1]");
    await socket.next(() => socket.ofType("error").length === 20);
    socket.send({ type: "ping" });
    await socket.next(() => socket.ofType("pong").length === 31);
    expect(socket.closed).toBeNull();
    socket.close();
  });
});

describe("model requests", () => {
  it("carry max_tokens = LLM_MAX_TOKENS, and the reply stops there", async () => {
    const user = await newUser();
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    await overrideSessionEnv(user, { LLM_MAX_TOKENS: "7" });
    const socket = await openSocket(user);
    const marker = `capped-${crypto.randomUUID()}`;
    socket.send({ type: "chat.send", chat_id: chat.id, content: `${marker} [[emu:tokens=50]]` });
    const done = await socket.nextOf("chat.done");
    expect(done.message.status).toBe("complete");
    expect(socket.ofType("chat.delta")).toHaveLength(7);
    expect((await chatRequests(marker)).map((r) => r.max_tokens)).toEqual([7]);
    socket.close();
  });

  it("carry the default LLM_MAX_TOKENS of 600", async () => {
    const user = await newUser();
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    const marker = `default-${crypto.randomUUID()}`;
    socket.send({ type: "chat.send", chat_id: chat.id, content: `${marker} [[emu:tokens=2]]` });
    await socket.nextOf("chat.done");
    expect((await chatRequests(marker)).map((r) => r.max_tokens)).toEqual([600]);
    socket.close();
  });
});

describe("the prompt sent to the model", () => {
  it("is within LLM_CONTEXT_BUDGET_CHARS for a card with every field at its maximum, full of macros", async () => {
    const user = await newUser("U".repeat(40));
    const macros = (length: number) =>
      "{{char}}<bot>{{user}}<BOT>".repeat(Math.ceil(length / 26)).slice(0, length);
    const character = await newCharacter(user, {
      name: "N".repeat(80),
      description: macros(2000),
      personality: macros(4000),
      scenario: macros(4000),
      system_prompt: `{{original}}${macros(3988)}`,
      example_dialogue: macros(4000),
    });
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    const marker = `budget-${crypto.randomUUID()}`;
    socket.send({
      type: "chat.send",
      chat_id: chat.id,
      content: `${marker} [[emu:tokens=2]] ${"m".repeat(3900)}`,
    });
    await socket.nextOf("chat.done");
    const [sent] = await chatRequests(marker);
    expect(sent?.chars).toBeGreaterThan(11_000);
    expect(sent?.chars).toBeLessThanOrEqual(12_000);
    socket.close();
  });
});
