import { env, runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { UserSession } from "../../durable-objects/user-session";
import { d1Client } from "../../src/db/d1-client";
import { repositoryOn } from "../../src/db/repository";
import { harness } from "./generation.support";
import { appWith, uniqueIp } from "./rate-limit.support";
import { call, messagesOf, newCharacter, newChat, newUser, openSocket } from "./support/session";

const PASS = "1x0000000000000000000000000000000AA";
const FAIL = "2x0000000000000000000000000000000AA";
const SPENT = "3x0000000000000000000000000000000AA";
const DUMMY_TOKEN = "XXXX.DUMMY.TOKEN.XXXX";

function guestCreator(overrides: Record<string, unknown>) {
  const fetchApp = appWith(overrides);
  return (body: unknown) =>
    fetchApp("/api/v1/auth/guest", {
      method: "POST",
      ip: uniqueIp(),
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
}

const verifyUrl = () => `${env.EMULATOR_URL}/turnstile/v0/siteverify`;

describe("Turnstile on guest creation", () => {
  it("is off while TURNSTILE_SECRET_KEY is unset", async () => {
    expect((await guestCreator({})({})).status).toBe(201);
  });

  it("creates a guest when siteverify accepts the token (always-pass test secret)", async () => {
    const create = guestCreator({ TURNSTILE_SECRET_KEY: PASS, TURNSTILE_VERIFY_URL: verifyUrl() });
    expect((await create({ turnstile_token: DUMMY_TOKEN })).status).toBe(201);
  });

  it.each([
    ["missing", PASS, {}],
    ["rejected (always-fail secret)", FAIL, { turnstile_token: DUMMY_TOKEN }],
    ["already spent", SPENT, { turnstile_token: DUMMY_TOKEN }],
  ])("answers 403 challenge_failed for a %s token and creates nobody", async (_, secret, body) => {
    const db = repositoryOn(d1Client(env.DB));
    const count = async () =>
      Number((await db.sql.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM users`))[0]?.n);
    const create = guestCreator({ TURNSTILE_SECRET_KEY: secret, TURNSTILE_VERIFY_URL: verifyUrl() });
    const before = await count();
    const res = await create(body);
    expect(res.status).toBe(403);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    expect((await res.json<{ code: string }>()).code).toBe("challenge_failed");
    expect(await count()).toBe(before);
  });

  it("fails closed with 503 when siteverify cannot be reached", async () => {
    const create = guestCreator({
      TURNSTILE_SECRET_KEY: PASS,
      TURNSTILE_VERIFY_URL: "http://127.0.0.1:9/turnstile/v0/siteverify",
    });
    const res = await create({ turnstile_token: DUMMY_TOKEN });
    expect(res.status).toBe(503);
    expect((await res.json<{ code: string }>()).code).toBe("upstream_unavailable");
  });
});

describe("per-user store caps", () => {
  it("refuses a character past MAX_CHARACTERS_PER_USER with 409 limit_reached (create and import)", async () => {
    const h = harness({ MAX_CHARACTERS_PER_USER: "2" });
    const user = await newUser();
    for (const name of ["One", "Two"]) {
      expect((await h.fetch(user, "/characters", { json: { name } })).status).toBe(201);
    }
    const third = await h.fetch(user, "/characters", { json: { name: "Three" } });
    expect(third.status).toBe(409);
    expect((await third.json<{ code: string }>()).code).toBe("limit_reached");
    const card = { spec: "chara_card_v2", spec_version: "2.0", data: { name: "Imported" } };
    const imported = await h.fetch(user, "/characters/import", { json: card });
    expect(imported.status).toBe(409);
    expect((await imported.json<{ code: string }>()).code).toBe("limit_reached");
  });

  it("refuses a chat past MAX_CHATS_PER_USER with 409 limit_reached", async () => {
    const h = harness({ MAX_CHATS_PER_USER: "2" });
    const user = await newUser();
    const character = await newCharacter(user);
    for (let i = 0; i < 2; i++) {
      expect((await h.fetch(user, "/chats", { json: { character_id: character.id } })).status).toBe(201);
    }
    const res = await h.fetch(user, "/chats", { json: { character_id: character.id } });
    expect(res.status).toBe(409);
    expect((await res.json<{ code: string }>()).code).toBe("limit_reached");
    expect((await (await h.fetch(user, "/chats")).json<{ items: unknown[] }>()).items).toHaveLength(2);
  });
});

async function chatCountOf(characterId: string, viewer = newUser()): Promise<number> {
  const res = await call(await viewer, `/characters/${characterId}`);
  return (await res.json<{ chat_count: number }>()).chat_count;
}

describe("chat_count counts chats with a user message", () => {
  it("does not count a chat until its first user message, counts it once, and uncounts it when deleted", async () => {
    const owner = await newUser();
    const character = await newCharacter(owner, { is_public: true });
    const visitor = await newUser();
    const chat = await newChat(visitor, character.id);
    await newChat(visitor, character.id);
    expect(await chatCountOf(character.id, Promise.resolve(owner))).toBe(0);

    const socket = await openSocket(visitor);
    for (const content of ["hello", "again"]) {
      socket.send({ type: "chat.send", chat_id: chat.id, content });
      await socket.nextOf("chat.done", chat.id, 10_000);
    }
    expect(await chatCountOf(character.id, Promise.resolve(owner))).toBe(1);

    expect((await call(visitor, `/chats/${chat.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await chatCountOf(character.id, Promise.resolve(owner))).toBe(0);
    socket.close();
  });
});

describe("reply credits on the socket", () => {
  it("refuses a turn past the allowance with error budget_exhausted and retry_after_s; nothing stored", async () => {
    const user = await newUser();
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const stub = env.USER_SESSION.get(env.USER_SESSION.idFromName(user.user.id));
    await runInDurableObject(stub, (instance: UserSession) => {
      const current = (instance as unknown as { env: Env }).env;
      Object.defineProperty(instance, "env", {
        value: { ...current, DAILY_CREDITS_GUEST: "1" },
        configurable: true,
      });
    });
    const socket = await openSocket(user);
    socket.send({ type: "chat.send", chat_id: chat.id, content: "paid" });
    await socket.nextOf("chat.done", chat.id, 10_000);
    const before = (await messagesOf(user, chat.id)).items.length;

    socket.send({ type: "chat.send", chat_id: chat.id, content: "unpaid" });
    const refused = await socket.nextOf("error", chat.id, 10_000);
    expect(refused.code).toBe("budget_exhausted");
    expect(refused.retry_after_s).toBeGreaterThan(0);
    expect((await messagesOf(user, chat.id)).items.length).toBe(before);
    const usage = await (await call(user, "/me/usage")).json<{ credits: { used: number } }>();
    expect(usage.credits.used).toBe(1);
    socket.close();
  });

  it("gives the credit back when a kept chat is gone behind the session's back (charged and checked in one statement)", async () => {
    const user = await newUser();
    const character = await newCharacter(user);
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    socket.send({ type: "chat.send", chat_id: chat.id, content: "kept after this" });
    await socket.nextOf("chat.done", chat.id, 10_000);
    // Not over REST (that would tell the session): the session still keeps the chat's context.
    await env.DB.batch([
      env.DB.prepare("DELETE FROM chat_history WHERE chat_id = ?").bind(chat.id),
      env.DB.prepare("DELETE FROM chats WHERE id = ?").bind(chat.id),
    ]);
    socket.send({ type: "chat.send", chat_id: chat.id, content: "and now?" });
    expect((await socket.nextOf("error", chat.id, 10_000)).code).toBe("not_found");
    const usage = await (await call(user, "/me/usage")).json<{ credits: { used: number } }>();
    expect(usage.credits.used).toBe(1);
    socket.close();
  });

  it("gives the credit back when the turn is refused (a chat that is not the user's)", async () => {
    const user = await newUser();
    const socket = await openSocket(user);
    socket.send({ type: "chat.send", chat_id: "cht_00000000000000000000000000", content: "hi" });
    expect((await socket.nextOf("error", "cht_00000000000000000000000000", 10_000)).code).toBe("not_found");
    const usage = await (await call(user, "/me/usage")).json<{ credits: { used: number } }>();
    expect(usage.credits.used).toBe(0);
    socket.close();
  });
});
