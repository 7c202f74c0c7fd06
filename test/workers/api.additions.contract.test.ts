import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { UserSession } from "../../durable-objects/user-session";
import { secondsToReset } from "../../src/abuse/credits";
import { newId } from "../../src/lib/ids";
import { harness } from "./generation.support";
import { addPasskey, guestOn, loginOptions, type SignedIn, send, WEB_ORIGIN } from "./support/accounts-http";
import { backends, type Fetch } from "./support/backends";
import { call, type Frame, newUser, openSocket, TestSocket, type TestUser, upgrade } from "./support/session";
import { SoftAuthenticator } from "./support/soft-authenticator";

/**
 * The public contract of /work/shared/API.md, "Additions (December 2026)", checked shape by
 * shape: exact key sets where API.md spells out the whole object, exact codes, statuses,
 * headers and frames. Behaviour in depth is tested elsewhere (credits, accounts.*, chat-depth.*,
 * ws.limits, abuse.limits); this file fails when a field, code or frame drifts from the page.
 */

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked key by key
type Json = Record<string, any>;

/** The keys of `value`, sorted: `expect(keysOf(x)).toEqual(sorted([...]))` pins an object's shape. */
function keysOf(value: unknown): string[] {
  expect(value).toBeTypeOf("object");
  expect(value).not.toBeNull();
  return Object.keys(value as object).sort();
}
const sorted = (keys: string[]) => [...keys].sort();

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/** API.md, Conventions: a problem body (request_id is an extension member the service adds). */
async function expectProblem(res: Response, status: number, code: string, title: string): Promise<Json> {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
  const body = await res.json<Json>();
  const keys = ["type", "title", "status", "detail", "code", "request_id"];
  expect(keysOf(body)).toEqual(sorted(body.errors === undefined ? keys : [...keys, "errors"]));
  expect(body).toMatchObject({ type: "about:blank", title, status, code });
  expect(body.detail).toEqual(expect.any(String));
  return body;
}

// --- the shapes API.md gives in full -------------------------------------------------------

const USER_KEYS = sorted(["id", "display_name", "created_at", "kind", "persona"]);
const SIGN_IN_KEYS = sorted(["token", "expires_at", "refresh_token", "user"]);
const PASSKEY_KEYS = sorted(["id", "name", "created_at", "last_used_at"]);
const SESSION_KEYS = sorted(["id", "created_at", "last_used_at", "user_agent", "current"]);
const CHAT_KEYS = sorted([
  "id",
  "character_id",
  "title",
  "created_at",
  "last_message_at",
  "summary",
  "summary_through",
]);
/** API.md's message plus `status` (documented in the OpenAPI document: a reply cut short). */
const MESSAGE_KEYS = sorted([
  "id",
  "chat_id",
  "role",
  "content",
  "created_at",
  "swipe_index",
  "swipe_count",
  "edited_at",
  "attachments",
  "status",
]);
/** API.md's character plus `example_dialogue` (a Character Card V2 field the API keeps). */
const CHARACTER_KEYS = sorted([
  "id",
  "name",
  "description",
  "personality",
  "scenario",
  "greeting",
  "system_prompt",
  "tags",
  "avatar_url",
  "is_public",
  "owner_id",
  "chat_count",
  "created_at",
  "updated_at",
  "appearance",
  "character_book",
  "example_dialogue",
]);
const JOB_KEYS = sorted([
  "id",
  "status",
  "prompt",
  "negative_prompt",
  "params",
  "character_id",
  // API.md, Conversation depth: a picture's job is "linked to the chat (`job.chat_id`)"; null otherwise.
  "chat_id",
  "images",
  "error",
  "attempts",
  "created_at",
  "started_at",
  "completed_at",
]);

function expectUser(user: unknown, kind: "guest" | "account", persona: unknown = null): void {
  expect(keysOf(user)).toEqual(USER_KEYS);
  expect(user).toEqual({
    id: expect.any(String),
    display_name: expect.any(String),
    created_at: expect.stringMatching(ISO),
    kind,
    persona,
  });
}

function expectSignIn(body: Json, kind: "guest" | "account", ttlS: number, extra: string[] = []): void {
  expect(keysOf(body)).toEqual(sorted([...SIGN_IN_KEYS, ...extra]));
  expect(body.token).toEqual(expect.any(String));
  expect(body.refresh_token).toEqual(expect.any(String));
  expect(body.refresh_token).not.toBe(body.token);
  expect(body.expires_at).toMatch(ISO);
  // Access tokens live ACCESS_TOKEN_TTL_S.
  const lifeS = (Date.parse(body.expires_at) - Date.now()) / 1000;
  expect(lifeS).toBeGreaterThan(ttlS - 30);
  expect(lifeS).toBeLessThanOrEqual(ttlS + 1);
  expectUser(body.user, kind, body.user.persona);
}

function expectMessage(message: unknown): void {
  expect(keysOf(message)).toEqual(MESSAGE_KEYS);
  expect(message).toMatchObject({
    id: expect.any(String),
    chat_id: expect.any(String),
    role: expect.stringMatching(/^(user|assistant)$/),
    content: expect.any(String),
    created_at: expect.stringMatching(ISO),
    swipe_index: expect.any(Number),
    swipe_count: expect.any(Number),
    attachments: expect.any(Array),
  });
  const { edited_at } = message as Json;
  expect(edited_at === null || ISO.test(edited_at)).toBe(true);
}

function expectChat(chat: unknown): void {
  expect(keysOf(chat)).toEqual(CHAT_KEYS);
  expect(chat).toMatchObject({
    id: expect.any(String),
    character_id: expect.any(String),
    title: expect.any(String),
    created_at: expect.stringMatching(ISO),
    last_message_at: expect.stringMatching(ISO),
  });
}

// --- plumbing --------------------------------------------------------------------------------

/** Sockets opened by the running test, closed after it whatever happened. */
const openSockets: TestSocket[] = [];
afterEach(() => {
  for (const socket of openSockets.splice(0)) socket.close();
});
async function socketOf(user: TestUser): Promise<TestSocket> {
  const socket = await openSocket(user);
  openSockets.push(socket);
  return socket;
}

/** A fresh client address, so one test's per-IP buckets never meet another's. */
function freshIp(): string {
  return `10.91.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
}

/** A guest signed in through `h` (the Worker on an env with the test's overrides). */
async function guestOf(h: ReturnType<typeof harness>, body: Json = {}): Promise<TestUser & SignedIn & Json> {
  const ip = freshIp();
  const res = await h.fetchRaw("http://127.0.0.1:8787/api/v1/auth/guest", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return { ...(await res.json<SignedIn & Json>()), ip };
}

/** `Fetch` (support/backends) over a harness, for the passkey helpers. */
function fetchOf(h: ReturnType<typeof harness>): Fetch {
  return (path, init) => h.fetch(null, path, init);
}

async function usageOf(h: ReturnType<typeof harness>, user: TestUser): Promise<Json> {
  const res = await h.fetch(user, "/me/usage");
  expect(res.status).toBe(200);
  return res.json<Json>();
}

/** Overrides configuration inside the user's session object (the same values wrangler vars set). */
async function overrideSessionEnv(user: TestUser, vars: Record<string, string>): Promise<void> {
  const stub = env.USER_SESSION.get(env.USER_SESSION.idFromName(user.user.id));
  await runInDurableObject(stub, (instance: UserSession) => {
    const current = (instance as unknown as { env: Env }).env;
    Object.defineProperty(instance, "env", { value: { ...current, ...vars }, configurable: true });
  });
}

// =============================================================================================

describe("API.md: Spend and abuse limits", () => {
  it("GET /client-config is public and cacheable, with exactly the documented shape", async () => {
    const h = harness({
      TURNSTILE_SITE_KEY: "1x00000000000000000000AA",
      TURNSTILE_SECRET_KEY: "1x0000000000000000000000000000000AA",
      DAILY_CREDITS_GUEST: "11",
      DAILY_CREDITS_ACCOUNT: "111",
      CHAT_TURNS_PER_MIN: "13",
      MAX_ACTIVE_JOBS_PER_USER: "3",
    });
    const res = await h.fetch(null, "/client-config");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Cache-Control")).toMatch(/\bpublic\b/);
    expect(await res.json()).toStrictEqual({
      turnstile_site_key: "1x00000000000000000000AA",
      credits: { guest_daily: 11, account_daily: 111, image_unit: { width: 512, height: 512, steps: 20 } },
      limits: { chat_turns_per_min: 13, max_active_jobs: 3 },
    });

    // The documented defaults, and null without Turnstile.
    const defaults = await (await harness().fetch(null, "/client-config")).json();
    expect(defaults).toStrictEqual({
      turnstile_site_key: null,
      credits: { guest_daily: 100, account_daily: 500, image_unit: { width: 512, height: 512, steps: 20 } },
      limits: { chat_turns_per_min: 20, max_active_jobs: 4 },
    });
  });

  it("GET /me/usage is {day, credits{limit, used, remaining}, resets_at}; images cost ceil(w*h*steps / 512*512*20)", async () => {
    const h = harness({ DAILY_CREDITS_GUEST: "1000", MAX_ACTIVE_JOBS_PER_USER: "20" });
    const guest = await guestOf(h);
    const now = Date.now();
    const usage = await usageOf(h, guest);
    expect(usage).toStrictEqual({
      day: new Date(now).toISOString().slice(0, 10),
      credits: { limit: 1000, used: 0, remaining: 1000 },
      resets_at: new Date((Math.floor(now / 86_400_000) + 1) * 86_400_000).toISOString(),
    });

    const cases: [number, number, number, number][] = [
      [1024, 1024, 30, 6], // API.md's example
      [512, 512, 20, 1],
      [512, 512, 21, 2],
      [768, 512, 20, 2],
      [256, 256, 1, 1],
      [1536, 1536, 100, 45],
    ];
    let used = 0;
    for (const [width, height, steps, cost] of cases) {
      const res = await h.fetch(guest, "/generate", {
        json: { prompt: "a lighthouse", width, height, steps },
      });
      expect(res.status, await res.clone().text()).toBe(202);
      const job = await res.json<Json>();
      expect(keysOf(job)).toEqual(JOB_KEYS);
      expect(keysOf(job.params)).toEqual(sorted(["width", "height", "steps", "seed", "guidance"]));
      used += cost;
      expect((await usageOf(h, guest)).credits, `${width}x${height}x${steps}`).toStrictEqual({
        limit: 1000,
        used,
        remaining: 1000 - used,
      });
    }
  });

  it("refuses an image past the allowance with 429 budget_exhausted, Retry-After = seconds to UTC midnight; nothing charged", async () => {
    const h = harness({ DAILY_CREDITS_GUEST: "5" });
    const guest = await guestOf(h);
    const before = secondsToReset(Date.now());
    const res = await h.fetch(guest, "/generate", {
      json: { prompt: "a lighthouse", width: 1024, height: 1024, steps: 30 },
    });
    const after = secondsToReset(Date.now());
    await expectProblem(res, 429, "budget_exhausted", "Too Many Requests");
    const retryAfter = Number(res.headers.get("Retry-After"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(after);
    expect(retryAfter).toBeLessThanOrEqual(before);
    expect((await usageOf(h, guest)).credits).toStrictEqual({ limit: 5, used: 0, remaining: 5 });
  });

  it("refuses a model reply past the allowance with an error frame budget_exhausted and retry_after_s", async () => {
    const h = harness();
    const user = await newUser();
    const character = await call(user, "/characters", { json: { name: "Bard" } });
    const chat = await (
      await call(user, "/chats", { json: { character_id: (await character.json<Json>()).id } })
    ).json<Json>();
    // Spend today's one credit on an image, then the reply has nothing left to pay with.
    const paid = await h.fetch(user, "/generate", {
      json: { prompt: "x", width: 512, height: 512, steps: 20 },
    });
    expect(paid.status).toBe(202);
    await overrideSessionEnv(user, { DAILY_CREDITS_GUEST: "1" });
    const socket = await socketOf(user);
    const before = secondsToReset(Date.now());
    socket.send({ type: "chat.send", chat_id: chat.id, content: "hello" });
    const frame = await socket.nextOf("error", chat.id, 10_000);
    const after = secondsToReset(Date.now());
    expect(keysOf(frame)).toEqual(sorted(["type", "code", "detail", "chat_id", "retry_after_s"]));
    expect(frame).toMatchObject({ type: "error", code: "budget_exhausted", chat_id: chat.id });
    expect(Number.isInteger(frame.retry_after_s)).toBe(true);
    expect(frame.retry_after_s).toBeGreaterThanOrEqual(after);
    expect(frame.retry_after_s).toBeLessThanOrEqual(before);
    // Nothing was stored or charged for the refused turn.
    const messages = await (await call(user, `/chats/${chat.id}/messages`)).json<Json>();
    expect(messages.items.filter((m: Json) => m.role === "user")).toEqual([]);
    expect((await usageOf(h, user)).credits.used).toBe(1);
  });

  it("limits chat turns with an error frame rate_limited carrying retry_after_s (burst 5)", async () => {
    const user = await newUser();
    const socket = await socketOf(user);
    const ids = Array.from({ length: 6 }, () => newId("cht"));
    for (const id of ids) socket.send({ type: "chat.send", chat_id: id, content: "hello" });
    const frames: Frame[] = [];
    for (const id of ids) frames.push(await socket.nextOf("error", id));
    expect(frames.map((f) => f.code)).toEqual([...Array(5).fill("not_found"), "rate_limited"]);
    const limited = frames[5] as Frame;
    expect(keysOf(limited)).toEqual(sorted(["type", "code", "detail", "chat_id", "retry_after_s"]));
    // 20 a minute: one turn every 3 s, in whole seconds (less if the burst took a while to send).
    expect(Number.isInteger(limited.retry_after_s)).toBe(true);
    expect(limited.retry_after_s).toBeGreaterThanOrEqual(1);
    expect(limited.retry_after_s).toBeLessThanOrEqual(3);
  });

  it("closes a socket with 1008 when it sends more than 20 invalid frames within 10 s", async () => {
    const user = await newUser();
    const socket = await socketOf(user);
    for (let i = 0; i < 20; i++) socket.send("not json");
    await socket.next(() => socket.ofType("error").length === 20);
    expect(socket.ofType("error").every((f) => f.code === "invalid_request")).toBe(true);
    expect(socket.closed).toBeNull();
    socket.send("not json");
    const until = Date.now() + 5000;
    while (!socket.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(socket.closed?.code).toBe(1008);
  });

  it("refuses a character or chat past the per-user caps with 409 limit_reached", async () => {
    const h = harness({ MAX_CHARACTERS_PER_USER: "1", MAX_CHATS_PER_USER: "1" });
    const guest = await guestOf(h);
    const first = await h.fetch(guest, "/characters", { json: { name: "One" } });
    expect(first.status).toBe(201);
    const { id } = await first.json<Json>();
    await expectProblem(
      await h.fetch(guest, "/characters", { json: { name: "Two" } }),
      409,
      "limit_reached",
      "Conflict",
    );
    const chat = await h.fetch(guest, "/chats", { json: { character_id: id } });
    expect(chat.status).toBe(201);
    await expectProblem(
      await h.fetch(guest, "/chats", { json: { character_id: id } }),
      409,
      "limit_reached",
      "Conflict",
    );
    // An imported SillyTavern chat is a chat too.
    const file = await h.fetch(guest, `/chats/${(await chat.json<Json>()).id}/export`);
    expect(file.status).toBe(200);
    const imported = await h.fetch(guest, `/chats/import?character_id=${id}`, {
      method: "POST",
      headers: { "Content-Type": "application/jsonl" },
      body: await file.arrayBuffer(),
    });
    await expectProblem(imported, 409, "limit_reached", "Conflict");
  });

  it("refuses a card whose extra fields, or a lorebook that, pass 256 KiB with 413 payload_too_large", async () => {
    const guest = await newUser();
    const card = {
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: { name: "Big", extensions: { blob: "x".repeat(257 * 1024) } },
    };
    const res = await call(guest, "/characters/import", { json: card });
    await expectProblem(res, 413, "payload_too_large", "Payload Too Large");

    // A lorebook set by POST/PATCH is "within the 256 KiB above" too.
    const book = {
      entries: [{ keys: ["sea"], content: "w".repeat(257 * 1024), enabled: true, insertion_order: 0 }],
    };
    const created = await call(guest, "/characters", { json: { name: "Big", character_book: book } });
    await expectProblem(created, 413, "payload_too_large", "Payload Too Large");
    const small = await (await call(guest, "/characters", { json: { name: "Small" } })).json<Json>();
    const patched = await call(guest, `/characters/${small.id}`, {
      method: "PATCH",
      json: { character_book: book },
    });
    await expectProblem(patched, 413, "payload_too_large", "Payload Too Large");
    const kept = await (await call(guest, `/characters/${small.id}`)).json<Json>();
    expect(kept.character_book).toBeNull();
  });

  it("refuses a guest without a passing Turnstile token with 403 challenge_failed", async () => {
    const h = harness({
      TURNSTILE_SECRET_KEY: "2x0000000000000000000000000000000AA", // Turnstile's always-fail test secret
      TURNSTILE_VERIFY_URL: `${env.EMULATOR_URL}/turnstile/v0/siteverify`,
    });
    for (const body of [{}, { turnstile_token: "XXXX.DUMMY.TOKEN.XXXX" }]) {
      const res = await h.fetch(null, "/auth/guest", { json: body });
      await expectProblem(res, 403, "challenge_failed", "Forbidden");
    }
  });

  it("puts guest creation and the passkey login/register routes in zone identity: 429 rate_limited with Retry-After", async () => {
    const h = harness({ GUEST_PER_IP_PER_HOUR: "1" });
    const { ip } = await guestOf(h);
    for (const path of [
      "/auth/guest",
      "/auth/passkeys/login/options",
      "/auth/passkeys/login",
      "/auth/passkeys/register/options",
      "/auth/passkeys/register",
    ]) {
      const res = await h.fetchRaw(`http://127.0.0.1:8787/api/v1${path}`, {
        method: "POST",
        headers: { "CF-Connecting-IP": ip },
      });
      await expectProblem(res, 429, "rate_limited", "Too Many Requests");
      expect(Number(res.headers.get("Retry-After")), path).toBeGreaterThanOrEqual(1);
      for (const header of ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]) {
        expect(res.headers.get(header), `${path} ${header}`).not.toBeNull();
      }
    }
  });

  it("counts in chat_count only the chats in which the user sent a message", async () => {
    const owner = await newUser();
    const character = await (
      await call(owner, "/characters", { json: { name: "Counted", greeting: "Hi!", is_public: true } })
    ).json<Json>();
    expect(keysOf(character)).toEqual(CHARACTER_KEYS);
    const visitor = await newUser();
    const chat = await (await call(visitor, "/chats", { json: { character_id: character.id } })).json<Json>();
    const count = async () =>
      (await (await call(owner, `/characters/${character.id}`)).json<Json>()).chat_count;
    expect(await count()).toBe(0);
    const reimport = async () => {
      const file = await call(visitor, `/chats/${chat.id}/export`);
      const res = await call(visitor, `/chats/import?character_id=${character.id}`, {
        method: "POST",
        headers: { "Content-Type": "application/jsonl" },
        body: await file.arrayBuffer(),
      });
      expect(res.status).toBe(201);
    };
    // A file of the greeting alone holds no user message.
    await reimport();
    expect(await count()).toBe(0);

    const socket = await socketOf(visitor);
    const clientId = crypto.randomUUID();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "hello", client_id: clientId });
    const echo = await socket.next((f) => f.type === "chat.message" && f.client_id === clientId);
    await socket.nextOf("chat.done", chat.id, 10_000);
    expect(await count()).toBe(1);
    await reimport();
    expect(await count()).toBe(2);

    // Deleting from the only user message on: the chat has none left, and stops counting...
    const cut = await call(visitor, `/chats/${chat.id}/messages/${echo.message.id}`, { method: "DELETE" });
    expect(cut.status).toBe(204);
    expect(await count()).toBe(1);
    // ...until the user writes again (counted once), and deleting the chat uncounts it.
    const again = crypto.randomUUID();
    socket.send({ type: "chat.send", chat_id: chat.id, content: "hello again", client_id: again });
    const echoAgain = await socket.next((f) => f.type === "chat.message" && f.client_id === again);
    await socket.next(
      (f) =>
        f.type === "chat.done" &&
        f.chat_id === chat.id &&
        f.message.created_at > echoAgain.message.created_at,
      10_000,
    );
    expect(await count()).toBe(2);
    expect((await call(visitor, `/chats/${chat.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await count()).toBe(1);
  });
});

describe.each(backends)("API.md: chat_count on $name", ({ fetch }) => {
  it("counts an imported chat only with a user message, and uncounts a chat whose user messages are deleted", async () => {
    const owner = await guestOn(fetch, "Owner");
    const character = await (
      await fetch("/characters", send(owner.token, { name: "Counted", greeting: "Hi!", is_public: true }))
    ).json<Json>();
    const count = async () =>
      (await (await fetch(`/characters/${character.id}`, send(owner.token, undefined, "GET"))).json<Json>())
        .chat_count;
    const chat = await (
      await fetch("/chats", send(owner.token, { character_id: character.id }))
    ).json<Json>();
    const exported = await fetch(`/chats/${chat.id}/export`, send(owner.token, undefined, "GET"));
    const greetingOnly = new TextDecoder().decode(await exported.arrayBuffer()).trim();
    const importFile = async (file: string) => {
      const res = await fetch(`/chats/import?character_id=${character.id}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${owner.token}`, "Content-Type": "application/jsonl" },
        body: file,
      });
      expect(res.status, await res.clone().text()).toBe(201);
      return res.json<Json>();
    };
    await importFile(greetingOnly);
    expect(await count()).toBe(0);

    const userLine = { name: "Owner", is_user: true, send_date: new Date().toISOString(), mes: "hello" };
    const withUser = await importFile(`${greetingOnly}\n${JSON.stringify(userLine)}`);
    expect(await count()).toBe(1);
    const messages = await (
      await fetch(`/chats/${withUser.id}/messages`, send(owner.token, undefined, "GET"))
    ).json<Json>();
    const mine = messages.items.find((m: Json) => m.role === "user");
    const cut = await fetch(
      `/chats/${withUser.id}/messages/${mine.id}`,
      send(owner.token, undefined, "DELETE"),
    );
    expect(cut.status).toBe(204);
    expect(await count()).toBe(0);
    // The chat no longer counts, so deleting it leaves the count alone.
    expect((await fetch(`/chats/${withUser.id}`, send(owner.token, undefined, "DELETE"))).status).toBe(204);
    expect(await count()).toBe(0);
  });
});

// =============================================================================================

describe("API.md: Accounts and sessions", () => {
  it("signs a guest in with {token, expires_at, refresh_token, user}; user has kind and persona", async () => {
    const h = harness({ ACCESS_TOKEN_TTL_S: "120" });
    const guest = await guestOf(h, { display_name: "Ada" });
    const { ip: _, ...signIn } = guest;
    expectSignIn(signIn, "guest", 120);
    expect(guest.user).toMatchObject({ display_name: "Ada", persona: null });

    const me = await h.fetch(guest, "/me");
    expect(me.status).toBe(200);
    const body = await me.json<Json>();
    expect(keysOf(body)).toEqual(["user"]);
    expectUser(body.user, "guest");
  });

  it("PATCH /me takes a persona {name 1..40, description <= 2000} or null and answers 200 user", async () => {
    const h = harness();
    const guest = await guestOf(h);
    const persona = { name: "n".repeat(40), description: "d".repeat(2000) };
    const res = await h.fetch(guest, "/me", { method: "PATCH", json: { display_name: "Wren", persona } });
    expect(res.status).toBe(200);
    const user = await res.json<Json>();
    expectUser(user, "guest", persona);
    expect(user.display_name).toBe("Wren");

    for (const [bad, path] of [
      [{ name: "", description: "" }, "persona.name"],
      [{ name: "n".repeat(41), description: "" }, "persona.name"],
      [{ name: "Wren", description: "d".repeat(2001) }, "persona.description"],
    ] as const) {
      const refused = await h.fetch(guest, "/me", { method: "PATCH", json: { persona: bad } });
      const problem = await expectProblem(refused, 400, "invalid_request", "Bad Request");
      expect(problem.errors.map((e: Json) => e.path)).toContain(path);
    }
    // Refusals changed nothing.
    expect((await (await h.fetch(guest, "/me")).json<Json>()).user.persona).toEqual(persona);

    const cleared = await h.fetch(guest, "/me", { method: "PATCH", json: { persona: null } });
    expect(cleared.status).toBe(200);
    expectUser(await cleared.json(), "guest", null);
  });

  it("refreshes once per refresh token (a reused one ends the session), logs out with 204, lists sessions", async () => {
    const h = harness();
    const fetch = fetchOf(h);
    const guest = await guestOf(h);
    const refreshed = await fetch("/auth/refresh", send(null, { refresh_token: guest.refresh_token }));
    expect(refreshed.status).toBe(200);
    const pair = await refreshed.json<Json>();
    expectSignIn(pair, "guest", 900);
    expect(pair.user.id).toBe(guest.user.id);

    const reused = await fetch("/auth/refresh", send(null, { refresh_token: guest.refresh_token }));
    await expectProblem(reused, 401, "unauthorized", "Unauthorized");
    // The whole session is revoked: the pair it handed out is dead too.
    const after = await fetch("/auth/refresh", send(null, { refresh_token: pair.refresh_token }));
    await expectProblem(after, 401, "unauthorized", "Unauthorized");

    // A second, live session of the same user (a guest's token cannot sign in again: use a passkey).
    const other = await guestOf(h);
    const { authenticator } = await addPasskey(fetch, other);
    const response = await authenticator.login(await loginOptions(fetch), { origin: WEB_ORIGIN });
    const login = await fetch("/auth/passkeys/login", send(null, { response }));
    expect(login.status).toBe(200);
    const second = await login.json<Json>();

    const list = await fetch("/me/sessions", send(other.token, undefined, "GET"));
    expect(list.status).toBe(200);
    const sessions = await list.json<Json>();
    expect(keysOf(sessions)).toEqual(["items"]);
    expect(sessions.items).toHaveLength(2);
    for (const item of sessions.items) {
      expect(keysOf(item)).toEqual(SESSION_KEYS);
      expect(item).toEqual({
        id: expect.any(String),
        created_at: expect.stringMatching(ISO),
        last_used_at: expect.stringMatching(ISO),
        user_agent: null,
        current: expect.any(Boolean),
      });
    }
    expect(sessions.items.filter((s: Json) => s.current)).toHaveLength(1);
    const notCurrent = sessions.items.find((s: Json) => !s.current);

    expect(
      (await fetch(`/me/sessions/${notCurrent.id}`, send(other.token, undefined, "DELETE"))).status,
    ).toBe(204);
    const gone = await fetch("/auth/refresh", send(null, { refresh_token: second.refresh_token }));
    await expectProblem(gone, 401, "unauthorized", "Unauthorized");
    await expectProblem(
      await fetch(`/me/sessions/${newId("ses")}`, send(other.token, undefined, "DELETE")),
      404,
      "not_found",
      "Not Found",
    );

    const logout = await fetch("/auth/logout", send(other.token));
    expect(logout.status).toBe(204);
    const afterLogout = await fetch("/auth/refresh", send(null, { refresh_token: other.refresh_token }));
    await expectProblem(afterLogout, 401, "unauthorized", "Unauthorized");
  });

  it("registers a passkey: 201 {passkey{id, name, created_at, last_used_at}, user} and the guest becomes an account", async () => {
    const h = harness({ DAILY_CREDITS_GUEST: "12", DAILY_CREDITS_ACCOUNT: "321" });
    const fetch = fetchOf(h);
    const guest = await guestOf(h);
    expect((await usageOf(h, guest)).credits.limit).toBe(12);
    const optionsRes = await fetch("/auth/passkeys/register/options", send(guest.token));
    expect(optionsRes.status).toBe(200);
    const options = await optionsRes.json<Json>();
    expect(options).toMatchObject({
      challenge: expect.any(String),
      rp: { id: new URL(WEB_ORIGIN).hostname },
      user: { name: expect.any(String) },
      authenticatorSelection: { residentKey: "required" },
    });
    const authenticator = await SoftAuthenticator.create();
    const response = await authenticator.register(options as never, { origin: WEB_ORIGIN });
    const res = await fetch("/auth/passkeys/register", send(guest.token, { response, name: "Laptop" }));
    expect(res.status).toBe(201);
    const body = await res.json<Json>();
    expect(keysOf(body)).toEqual(["passkey", "user"]);
    expect(keysOf(body.passkey)).toEqual(PASSKEY_KEYS);
    expect(body.passkey).toEqual({
      id: expect.any(String),
      name: "Laptop",
      created_at: expect.stringMatching(ISO),
      last_used_at: null,
    });
    expectUser(body.user, "account");
    expect(body.user.id).toBe(guest.user.id);
    // An account's allowance is DAILY_CREDITS_ACCOUNT.
    expect((await usageOf(h, guest)).credits.limit).toBe(321);

    const list = await (await fetch("/me/passkeys", send(guest.token, undefined, "GET"))).json<Json>();
    expect(list).toStrictEqual({ items: [body.passkey] });

    // The last passkey of an account: 409 conflict. With a second one, either may go.
    await expectProblem(
      await fetch(`/me/passkeys/${body.passkey.id}`, send(guest.token, undefined, "DELETE")),
      409,
      "conflict",
      "Conflict",
    );
    await addPasskey(fetch, guest, "Phone");
    expect(
      (await fetch(`/me/passkeys/${body.passkey.id}`, send(guest.token, undefined, "DELETE"))).status,
    ).toBe(204);
  });

  it("logs in with a passkey: 200 sign-in response; with a guest's token, merged{characters, chats, generations}", async () => {
    const h = harness();
    const fetch = fetchOf(h);
    const account = await guestOf(h);
    const { authenticator } = await addPasskey(fetch, account);

    const plain = await fetch(
      "/auth/passkeys/login",
      send(null, { response: await authenticator.login(await loginOptions(fetch), { origin: WEB_ORIGIN }) }),
    );
    expect(plain.status).toBe(200);
    const signedIn = await plain.json<Json>();
    expectSignIn(signedIn, "account", 900);
    expect(signedIn.user.id).toBe(account.user.id);

    const guest = await guestOf(h);
    const character = await (await h.fetch(guest, "/characters", { json: { name: "Moved" } })).json<Json>();
    expect((await h.fetch(guest, "/chats", { json: { character_id: character.id } })).status).toBe(201);
    const job = await h.fetch(guest, "/generate", {
      json: { prompt: "x", width: 512, height: 512, steps: 20 },
    });
    expect(job.status).toBe(202);
    const response = await authenticator.login(await loginOptions(fetch), { origin: WEB_ORIGIN });
    const merged = await fetch("/auth/passkeys/login", send(guest.token, { response }));
    expect(merged.status).toBe(200);
    const body = await merged.json<Json>();
    expectSignIn(body, "account", 900, ["merged"]);
    expect(body.merged).toStrictEqual({ characters: 1, chats: 1, generations: 1 });

    // An unknown credential: 401.
    const stranger = await SoftAuthenticator.create();
    const unknown = await stranger.login(await loginOptions(fetch), { origin: WEB_ORIGIN });
    await expectProblem(
      await fetch("/auth/passkeys/login", send(null, { response: unknown })),
      401,
      "unauthorized",
      "Unauthorized",
    );
  });
});

// =============================================================================================

describe("API.md: Conversation depth", () => {
  it("chats carry summary and summary_through; messages carry swipe_index, swipe_count, edited_at, attachments", async () => {
    const user = await newUser("Ann");
    const character = await (
      await call(user, "/characters", {
        json: {
          name: "Keeper",
          greeting: "Welcome to the harbor.",
          appearance: "a lighthouse keeper in a yellow coat",
          character_book: {
            entries: [
              {
                keys: [],
                content: "The harbor freezes in winter.",
                enabled: true,
                insertion_order: 0,
                constant: true,
                name: "Harbor",
              },
              { keys: [], content: "Gulls steal bread.", enabled: true, insertion_order: 1, constant: true },
            ],
          },
        },
      })
    ).json<Json>();
    expect(keysOf(character)).toEqual(CHARACTER_KEYS);
    expect(character.appearance).toBe("a lighthouse keeper in a yellow coat");
    expect(character.character_book.entries).toHaveLength(2);

    const created = await call(user, "/chats", { json: { character_id: character.id } });
    expect(created.status).toBe(201);
    const chat = await created.json<Json>();
    expectChat(chat);
    expect(chat).toMatchObject({ summary: null, summary_through: null });
    const read = await call(user, `/chats/${chat.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toStrictEqual(chat);

    const page = await (await call(user, `/chats/${chat.id}/messages`)).json<Json>();
    expect(keysOf(page)).toEqual(["items", "next_cursor"]);
    const [greeting] = page.items;
    expectMessage(greeting);
    expect(greeting).toMatchObject({
      role: "assistant",
      swipe_index: 0,
      swipe_count: 1,
      edited_at: null,
      attachments: [],
    });

    const renamed = await call(user, `/chats/${chat.id}`, {
      method: "PATCH",
      json: { title: "Harbor talk", summary: "They met at the harbor." },
    });
    expect(renamed.status).toBe(200);
    const patched = await renamed.json<Json>();
    expectChat(patched);
    expect(patched).toMatchObject({
      title: "Harbor talk",
      summary: "They met at the harbor.",
      summary_through: null,
    });

    const context = await call(user, `/chats/${chat.id}/context`);
    expect(context.status).toBe(200);
    const preview = await context.json<Json>();
    expect(keysOf(preview)).toEqual(sorted(["messages", "chars", "budget_chars", "lore", "summary_used"]));
    for (const message of preview.messages) expect(keysOf(message)).toEqual(["content", "role"]);
    expect(preview.chars).toBe(preview.messages.reduce((n: number, m: Json) => n + m.content.length, 0));
    expect(preview.budget_chars).toBe(12_000);
    expect(preview.lore).toStrictEqual([
      { index: 0, name: "Harbor" },
      { index: 1, name: null },
    ]);
    expect(preview.summary_used).toBe(true);
  });

  it("answers regenerate, continue and swipe with the documented frames; lists swipes; edits and deletes messages", async () => {
    const user = await newUser("Ann");
    const character = await (
      await call(user, "/characters", { json: { name: "Bard", greeting: "Well met." } })
    ).json<Json>();
    const chat = await (await call(user, "/chats", { json: { character_id: character.id } })).json<Json>();
    const socket = await socketOf(user);

    socket.send({ type: "chat.send", chat_id: chat.id, content: "Sing", client_id: "c-1" });
    const echo = await socket.next((f) => f.type === "chat.message" && f.client_id === "c-1");
    expect(keysOf(echo)).toEqual(sorted(["type", "message", "client_id"]));
    expectMessage(echo.message);
    expect(echo.message).toMatchObject({ role: "user", content: "Sing", swipe_index: 0, swipe_count: 1 });
    const done = await socket.nextOf("chat.done", chat.id, 10_000);
    expect(keysOf(done)).toEqual(sorted(["type", "chat_id", "message"]));
    expectMessage(done.message);
    const reply = done.message;
    expect(reply).toMatchObject({ role: "assistant", swipe_index: 0, swipe_count: 1, edited_at: null });
    const delta = socket.ofType("chat.delta")[0];
    expect(keysOf(delta)).toEqual(sorted(["type", "chat_id", "message_id", "delta"]));
    expect(delta).toMatchObject({ chat_id: chat.id, message_id: reply.id, delta: expect.any(String) });

    socket.send({ type: "chat.regenerate", chat_id: chat.id });
    const regenerated = await socket.next(
      (f) => f.type === "chat.done" && f.message.swipe_count === 2,
      10_000,
    );
    expect(regenerated.message).toMatchObject({ id: reply.id, swipe_index: 1, swipe_count: 2 });

    const swipes = await call(user, `/chats/${chat.id}/messages/${reply.id}/swipes`);
    expect(swipes.status).toBe(200);
    const list = await swipes.json<Json>();
    expect(keysOf(list)).toEqual(["items"]);
    expect(list.items).toHaveLength(2);
    for (const [index, item] of list.items.entries()) {
      expect(keysOf(item)).toEqual(["content", "created_at", "index"]);
      expect(item).toMatchObject({ index, created_at: expect.stringMatching(ISO) });
    }
    expect(list.items.map((s: Json) => s.content)).toEqual([reply.content, regenerated.message.content]);

    socket.send({ type: "chat.swipe", chat_id: chat.id, message_id: reply.id, index: 0 });
    const swiped = await socket.next(
      (f) =>
        f.type === "chat.message" &&
        f.message.id === reply.id &&
        f.message.swipe_count === 2 &&
        f.message.swipe_index === 0,
    );
    expect(keysOf(swiped)).toEqual(["message", "type"]);
    expect(swiped.message).toMatchObject({ swipe_index: 0, swipe_count: 2, content: reply.content });
    socket.send({ type: "chat.swipe", chat_id: chat.id, message_id: reply.id, index: 2 });
    const outOfRange = await socket.nextOf("error", chat.id);
    expect(keysOf(outOfRange)).toEqual(sorted(["type", "code", "detail", "chat_id"]));
    expect(outOfRange.code).toBe("invalid_request");

    socket.send({ type: "chat.continue", chat_id: chat.id });
    const continued = await socket.next(
      (f) => f.type === "chat.done" && f.message.id === reply.id && f.message.content !== reply.content,
      10_000,
    );
    expect(continued.message.content.startsWith(reply.content)).toBe(true);

    const edited = await call(user, `/chats/${chat.id}/messages/${echo.message.id}`, {
      method: "PATCH",
      json: { content: "Sing softly" },
    });
    expect(edited.status).toBe(200);
    const message = await edited.json<Json>();
    expectMessage(message);
    expect(message).toMatchObject({
      id: echo.message.id,
      content: "Sing softly",
      edited_at: expect.stringMatching(ISO),
    });

    const deleted = await call(user, `/chats/${chat.id}/messages/${echo.message.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    const left = await (await call(user, `/chats/${chat.id}/messages`)).json<Json>();
    expect(left.items.map((m: Json) => m.content)).toEqual(["Well met."]);
  });

  it("exports a SillyTavern chat file as application/jsonl and imports it back as 201 chat", async () => {
    const user = await newUser("Ann");
    const character = await (
      await call(user, "/characters", { json: { name: "Bard", greeting: "Well met." } })
    ).json<Json>();
    const chat = await (await call(user, "/chats", { json: { character_id: character.id } })).json<Json>();
    const exported = await call(user, `/chats/${chat.id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get("Content-Type")).toMatch(/^application\/jsonl/);
    const lines = new TextDecoder()
      .decode(await exported.arrayBuffer())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Json);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      name: "Bard",
      is_user: false,
      mes: "Well met.",
      swipes: ["Well met."],
      swipe_id: 0,
    });
    expect(lines[1]?.send_date).toBeDefined();

    const imported = await call(user, `/chats/import?character_id=${character.id}`, {
      method: "POST",
      headers: { "Content-Type": "application/jsonl" },
      body: lines.map((line) => JSON.stringify(line)).join("\n"),
    });
    expect(imported.status, await imported.clone().text()).toBe(201);
    expectChat(await imported.json());
  });
});

describe("API.md: another user's resource is 404 on the added routes", () => {
  it("never reveals another user's chat, message, session or passkey", async () => {
    const h = harness();
    const fetch = fetchOf(h);
    const owner = await guestOf(h);
    const stranger = await guestOf(h);
    const character = await (
      await h.fetch(owner, "/characters", { json: { name: "Mine", greeting: "Hi" } })
    ).json<Json>();
    const chat = await (
      await h.fetch(owner, "/chats", { json: { character_id: character.id } })
    ).json<Json>();
    const [message] = (await (await h.fetch(owner, `/chats/${chat.id}/messages`)).json<Json>()).items;
    const { passkey } = await addPasskey(fetch, owner);
    const [session] = (await (await h.fetch(owner, "/me/sessions")).json<Json>()).items;

    const attempts: [string, string, Json?][] = [
      ["GET", `/chats/${chat.id}`],
      ["PATCH", `/chats/${chat.id}`, { title: "taken" }],
      ["GET", `/chats/${chat.id}/context`],
      ["GET", `/chats/${chat.id}/export`],
      ["GET", `/chats/${chat.id}/messages/${message.id}/swipes`],
      ["PATCH", `/chats/${chat.id}/messages/${message.id}`, { content: "taken" }],
      ["DELETE", `/chats/${chat.id}/messages/${message.id}`],
      ["DELETE", `/me/sessions/${session.id}`],
      ["DELETE", `/me/passkeys/${passkey.id}`],
    ];
    for (const [method, path, json] of attempts) {
      const res = await h.fetch(stranger, path, { method, ...(json ? { json } : {}) });
      await expectProblem(res, 404, "not_found", "Not Found");
    }
    // Nothing changed for the owner.
    expect((await (await h.fetch(owner, `/chats/${chat.id}`)).json<Json>()).title).toBe(chat.title);
    expect((await (await h.fetch(owner, `/chats/${chat.id}/messages`)).json<Json>()).items).toHaveLength(1);
    expect((await (await h.fetch(owner, "/me/sessions")).json<Json>()).items).toHaveLength(1);
    expect((await (await h.fetch(owner, "/me/passkeys")).json<Json>()).items).toHaveLength(1);
  });
});

// =============================================================================================

describe("API.md: Conventions", () => {
  it("answers every error as problem+json with X-Request-Id (echoed when given)", async () => {
    const user = await newUser();
    const notFound = await call(user, `/chats/${newId("cht")}`, {
      headers: { "X-Request-Id": "req-contract-1" },
    });
    expect(notFound.headers.get("X-Request-Id")).toBe("req-contract-1");
    const problem = await expectProblem(notFound, 404, "not_found", "Not Found");
    expect(problem.request_id).toBe("req-contract-1");

    const anonymous = await call(null, "/me/usage");
    expect(anonymous.headers.get("X-Request-Id")).toEqual(expect.any(String));
    await expectProblem(anonymous, 401, "unauthorized", "Unauthorized");

    const malformed = await call(user, "/me", {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: "{not json",
    });
    await expectProblem(malformed, 400, "invalid_request", "Bad Request");

    for (const query of ["?limit=0", "?limit=101", "?limit=x", "?cursor=%00not-a-cursor"]) {
      await expectProblem(await call(user, `/chats${query}`), 400, "invalid_request", "Bad Request");
    }

    // The upgrade too (101, and 401 without a token).
    const upgraded = await upgrade(user);
    expect(upgraded.status).toBe(101);
    expect(upgraded.headers.get("X-Request-Id")).toEqual(expect.any(String));
    const socket = upgraded.webSocket;
    if (!socket) throw new Error("no webSocket on the 101");
    socket.accept();
    openSockets.push(new TestSocket(socket));
    const refused = await upgrade({ token: "not-a-token" });
    expect(refused.headers.get("X-Request-Id")).toEqual(expect.any(String));
    await expectProblem(refused, 401, "unauthorized", "Unauthorized");

    const ok = await call(user, "/me/usage");
    expect(ok.status).toBe(200);
    expect(ok.headers.get("X-Request-Id")).toEqual(expect.any(String));
    for (const header of ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]) {
      expect(ok.headers.get(header), header).not.toBeNull();
    }
  });
});
