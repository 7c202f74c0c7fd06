import { env, runInDurableObject, SELF } from "cloudflare:test";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UserSession } from "../../durable-objects/user-session";
import { PICTURE_PARAMS } from "../../src/conversation/picture-prompt";
import { d1Client } from "../../src/db/d1-client";
import type { Job, Message } from "../../src/db/models";
import { postgresClient } from "../../src/db/postgres-client";
import { type Repository, repositoryOn } from "../../src/db/repository";
import { deliverToChat } from "../../src/generation/chat-delivery";
import { newId } from "../../src/lib/ids";
import type { PublicJob } from "../../src/realtime/events";
import {
  directive,
  emulatorJobs,
  getJob,
  harness,
  sleep,
  uniqueTag,
  upstreamStatus,
  waitForEmulatorJob,
  waitForJob,
} from "./generation.support";
import { backends } from "./support/backends";
import {
  call,
  messagesOf,
  newCharacter,
  newChat,
  newUser,
  openSocket,
  type TestSocket,
  type TestUser,
} from "./support/session";

type Harness = ReturnType<typeof harness>;
type Fetcher = Harness["fetch"];

interface Attachment {
  kind: string;
  job_id: string;
  url: string;
  width: number;
  height: number;
}
interface StoredMessage {
  id: string;
  swipe_count: number;
  role: string;
  content: string;
  status: string;
  attachments: Attachment[];
}

/** A user with a character that has an appearance, a chat with it, and a socket on the session. */
async function setup(appearance: string) {
  const user = await newUser();
  const character = await newCharacter(user, { appearance });
  const chat = await newChat(user, character.id);
  const socket = await openSocket(user);
  return { user, character, chat, socket };
}

async function askPicture(fetcher: Fetcher, user: TestUser, chatId: string, body: unknown = {}) {
  return fetcher(user, `/chats/${chatId}/pictures`, { json: body });
}

async function usedCredits(fetcher: Fetcher, user: TestUser): Promise<number> {
  const res = await fetcher(user, "/me/usage");
  return (await res.json<{ credits: { used: number } }>()).credits.used;
}

/** Messages of the chat carrying a picture of `jobId`. */
async function pictureMessages(user: TestUser, chatId: string, jobId: string): Promise<StoredMessage[]> {
  const page = (await messagesOf(user, chatId)).items as unknown as StoredMessage[];
  return page.filter((m) => m.attachments.some((a) => a.job_id === jobId));
}

/** Rows the chat holds in the database, whatever the API shows. */
async function storedRows(chatId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM chat_history WHERE chat_id = ?")
    .bind(chatId)
    .first<{ n: number }>();
  return Number(row?.n ?? 0);
}

async function generationsOf(fetcher: Fetcher, user: TestUser): Promise<PublicJob[]> {
  const res = await fetcher(user, "/generations");
  return (await res.json<{ items: PublicJob[] }>()).items;
}

/** Overrides configuration inside the user's session object (as wrangler vars would set it). */
async function overrideSessionEnv(user: TestUser, vars: Record<string, string>) {
  const stub = env.USER_SESSION.get(env.USER_SESSION.idFromName(user.user.id));
  await runInDurableObject(stub, (instance: UserSession) => {
    const current = (instance as unknown as { env: Env }).env;
    Object.defineProperty(instance, "env", { value: { ...current, ...vars }, configurable: true });
  });
}

/** The chat.message frame of the picture message (success or not) that `jobId` leaves. */
function pictureFrame(socket: TestSocket, chatId: string, status: string) {
  return socket.next(
    (f) =>
      f.type === "chat.message" &&
      f.message.chat_id === chatId &&
      f.message.role === "assistant" &&
      f.message.status === status &&
      f.message.content === "",
    15_000,
  );
}

const sockets: TestSocket[] = [];
afterAll(async () => {
  for (const socket of sockets) socket.close();
  // The socket-path test runs on the real queue: its last delayed /status poll (at most
  // GENERATION_POLL_MAX_S = 2 s after the job ended) finds the job terminal and stops. Let it.
  await sleep(2500);
});

describe("POST /chats/:id/pictures (queue driven by hand)", { timeout: 30_000 }, () => {
  it("answers 202 with a job linked to the chat, charges it, and the success leaves one picture message", async () => {
    const h = harness();
    const tag = uniqueTag();
    const { user, chat, socket } = await setup(
      `silver hair, a blue cloak ${tag} ${directive({ webhook: "never" })}`,
    );
    sockets.push(socket);
    const before = await usedCredits(h.fetch, user);

    const res = await askPicture(h.fetch, user, chat.id, { prompt: "  by the sea at dawn " });
    expect(res.status, await res.clone().text()).toBe(202);
    const job = await res.json<PublicJob>();
    expect(res.headers.get("Location")).toBe(`/api/v1/generations/${job.id}`);
    expect(job).toMatchObject({
      status: "queued",
      chat_id: chat.id,
      params: { width: PICTURE_PARAMS.width, height: PICTURE_PARAMS.height, steps: PICTURE_PARAMS.steps },
    });
    expect(job.prompt).toContain("silver hair, a blue cloak");
    expect(job.prompt.endsWith(". by the sea at dawn")).toBe(true);
    // 512 x 768 at 20 steps: ceil(1.5) = 2 credits, as any image of that size.
    expect((await usedCredits(h.fetch, user)) - before).toBe(2);
    expect((await getJob(user, job.id, h.fetch)).chat_id).toBe(chat.id);
    const announced = await socket.next((f) => f.type === "generation.updated" && f.job.id === job.id);
    expect(announced.job).toMatchObject({ status: "queued", chat_id: chat.id });

    await h.deliverSent();
    const upstream = await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
    expect(upstream.input).toMatchObject({ width: 512, height: 768, num_inference_steps: 20 });
    // The webhook and the poll report the same end at once: one wins the transition.
    const polls = h.queue.take().map((m) => m.body);
    const status = await upstreamStatus(upstream);
    await Promise.all([h.deliver(polls), h.deliverWebhook(upstream, status), h.deliver(polls)]);

    const done = await getJob(user, job.id, h.fetch);
    expect(done.status).toBe("succeeded");
    const frame = await pictureFrame(socket, chat.id, "complete");
    const image = done.images[0];
    expect(frame.message.attachments).toEqual([
      { kind: "image", job_id: job.id, url: image?.url, width: image?.width, height: image?.height },
    ]);
    const stored = await pictureMessages(user, chat.id, job.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: frame.message.id, role: "assistant", status: "complete" });
    // Nothing more arrives: exactly one message for the job.
    await h.deliver(polls);
    expect(
      socket.frames.filter((f) => f.type === "chat.message" && f.message.status === "complete"),
    ).toHaveLength(1);
    expect((await usedCredits(h.fetch, user)) - before).toBe(2);
  });

  it("without a prompt, pictures the scene of the last exchange", async () => {
    const h = harness();
    const { user, chat, socket } = await setup("freckles, a straw hat");
    sockets.push(socket);
    socket.send({
      type: "chat.send",
      chat_id: chat.id,
      content: "Let us climb the old lighthouse",
      client_id: "s1",
    });
    const reply = await socket.nextOf("chat.done", chat.id, 10_000);

    // No body at all stands for `{}`.
    const res = await h.fetch(user, `/chats/${chat.id}/pictures`, { method: "POST" });
    expect(res.status, await res.clone().text()).toBe(202);
    const job = await res.json<PublicJob>();
    expect(job.prompt.startsWith("freckles, a straw hat. Let us climb the old lighthouse")).toBe(true);
    expect(job.prompt).toContain(reply.message.content.replace(/\s+/g, " ").trim().slice(-40));
    expect(job.prompt.length).toBeLessThanOrEqual(2000);
    // Nothing runs on its own here: cancel the queued job (its credits come back).
    expect((await h.fetch(user, `/generations/${job.id}/cancel`, { method: "POST" })).status).toBe(200);
    await pictureFrame(socket, chat.id, "cancelled");
  });

  it("a failed job leaves a failed message without attachment and gives the credits back", async () => {
    const h = harness();
    const tag = uniqueTag();
    const { user, chat, socket } = await setup(
      `a knight ${tag} ${directive({ job: "fail", webhook: "never" })}`,
    );
    sockets.push(socket);
    const before = await usedCredits(h.fetch, user);
    const job = await (await askPicture(h.fetch, user, chat.id, { prompt: "in the rain" })).json<PublicJob>();
    expect((await usedCredits(h.fetch, user)) - before).toBe(2);

    await h.deliverSent();
    await waitForEmulatorJob(tag, (j) => j.status === "FAILED");
    await h.deliverSent();
    expect((await getJob(user, job.id, h.fetch)).status).toBe("failed");
    const frame = await pictureFrame(socket, chat.id, "failed");
    expect(frame.message.attachments).toEqual([]);
    const last = (await messagesOf(user, chat.id, "?limit=1")).items[0] as unknown as StoredMessage;
    expect(last).toMatchObject({
      id: frame.message.id,
      role: "assistant",
      status: "failed",
      attachments: [],
    });
    expect(await usedCredits(h.fetch, user)).toBe(before);
  });

  it("a cancelled job leaves a cancelled message", async () => {
    const h = harness();
    const tag = uniqueTag();
    const { user, chat, socket } = await setup(
      `a wizard ${tag} ${directive({ job: "hang", webhook: "never" })}`,
    );
    sockets.push(socket);
    const job = await (await askPicture(h.fetch, user, chat.id)).json<PublicJob>();
    await h.deliverSent();
    expect((await getJob(user, job.id, h.fetch)).status).toBe("running");
    const cancel = await h.fetch(user, `/generations/${job.id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    expect((await cancel.json<PublicJob>()).chat_id).toBe(chat.id);
    const frame = await pictureFrame(socket, chat.id, "cancelled");
    expect(frame.message.attachments).toEqual([]);
    expect((await emulatorJobs(tag))[0]).toMatchObject({ cancelled: true });
    // The scheduled poll finds the job terminal and leaves the chat alone.
    await h.deliverSent();
    const stored = (await messagesOf(user, chat.id)).items.filter((m) => m.status === "cancelled");
    expect(stored).toHaveLength(1);
  });

  it("stores nothing when the chat was deleted before the job ended", async () => {
    const h = harness();
    const { user, chat, socket } = await setup("a bard");
    sockets.push(socket);
    const job = await (await askPicture(h.fetch, user, chat.id)).json<PublicJob>();
    expect((await h.fetch(user, `/chats/${chat.id}`, { method: "DELETE" })).status).toBe(204);
    const cancel = await h.fetch(user, `/generations/${job.id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    expect((await getJob(user, job.id, h.fetch)).status).toBe("cancelled");
    expect(await storedRows(chat.id)).toBe(0);
    socket.send({ type: "ping" });
    await socket.nextOf("pong");
    expect(socket.ofType("chat.message").filter((f) => f.message.chat_id === chat.id)).toEqual([]);
  });

  it("is 404 for someone else's chat or none, and creates nothing", async () => {
    const h = harness();
    const { user: owner, chat, socket } = await setup("a cat");
    sockets.push(socket);
    const stranger = await newUser();
    for (const [who, chatId] of [
      [stranger, chat.id],
      [owner, newId("cht")],
    ] as const) {
      const res = await askPicture(h.fetch, who, chatId, { prompt: "hello" });
      expect(res.status).toBe(404);
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      expect((await res.json<{ code: string }>()).code).toBe("not_found");
      expect(await generationsOf(h.fetch, who)).toEqual([]);
      expect(await usedCredits(h.fetch, who)).toBe(0);
    }
    expect(h.queue.take()).toEqual([]);
    expect((await messagesOf(owner, chat.id)).items.map((m) => m.role)).toEqual(["assistant"]);
  });

  it("answers a bad body with 400 problem+json and creates nothing", async () => {
    const h = harness();
    const { user, chat, socket } = await setup("a cat");
    sockets.push(socket);
    const bodies: (string | object)[] = [
      { prompt: 5 },
      { prompt: "" },
      { prompt: "   " },
      { prompt: "x".repeat(1001) },
      { prompt: "ok", width: 2048 },
      "{not json",
      "[]",
    ];
    for (const body of bodies) {
      const res = await h.fetch(user, `/chats/${chat.id}/pictures`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      expect((await res.json<{ code: string }>()).code).toBe("invalid_request");
    }
    expect(await generationsOf(h.fetch, user)).toEqual([]);
    expect(await usedCredits(h.fetch, user)).toBe(0);
    expect(h.queue.take()).toEqual([]);
  });

  it("refuses past the allowance with 429 budget_exhausted and Retry-After, charging nothing", async () => {
    const h = harness({ DAILY_CREDITS_GUEST: "1" });
    const { user, chat, socket } = await setup("a cat");
    sockets.push(socket);
    const res = await askPicture(h.fetch, user, chat.id);
    expect(res.status).toBe(429);
    expect((await res.json<{ code: string }>()).code).toBe("budget_exhausted");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await generationsOf(h.fetch, user)).toEqual([]);
    expect(await usedCredits(h.fetch, user)).toBe(0);
  });

  it("counts as a chat turn: the socket's turns and the route share the user's bucket", async () => {
    const h = harness();
    const { user, chat, socket } = await setup("a cat");
    sockets.push(socket);
    // One turn a minute: after the burst of 5, nothing refills within this test.
    await overrideSessionEnv(user, { CHAT_TURNS_PER_MIN: "1" });
    const madeUp = Array.from({ length: 5 }, () => newId("cht"));
    for (const id of madeUp) socket.send({ type: "chat.picture", chat_id: id });
    for (const id of madeUp) expect((await socket.nextOf("error", id)).code).toBe("not_found");
    const res = await askPicture(h.fetch, user, chat.id);
    expect(res.status).toBe(429);
    expect((await res.json<{ code: string }>()).code).toBe("rate_limited");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await generationsOf(h.fetch, user)).toEqual([]);
  });
});

describe("one reply at a time", { timeout: 30_000 }, () => {
  it("refuses a picture (frame: conflict, route: 409) while a reply streams in the chat", async () => {
    const h = harness();
    const { user, chat, socket } = await setup("a cat");
    sockets.push(socket);
    socket.send({
      type: "chat.send",
      chat_id: chat.id,
      content: "hello [[emu:chat=stall]]",
      client_id: "stall",
    });
    await socket.next((f) => f.type === "chat.message" && f.client_id === "stall");
    socket.send({ type: "chat.picture", chat_id: chat.id });
    expect(await socket.nextOf("error", chat.id)).toMatchObject({ code: "conflict" });
    const res = await askPicture(h.fetch, user, chat.id);
    expect(res.status).toBe(409);
    expect(await generationsOf(h.fetch, user)).toEqual([]);
    socket.send({ type: "chat.cancel", chat_id: chat.id });
    expect((await socket.nextOf("chat.done", chat.id)).message.status).toBe("cancelled");
  });
});

describe("the chat.picture frame (real queue)", { timeout: 30_000 }, () => {
  it("makes the same job, announces it on every socket, and delivers the picture as chat.message", async () => {
    const tag = uniqueTag();
    const { user, chat, socket } = await setup(`a fox in a scarf ${tag}`);
    const other = await openSocket(user);
    sockets.push(socket, other);
    socket.send({ type: "chat.picture", chat_id: chat.id, prompt: "in the snow" });
    const announced = await other.next((f) => f.type === "generation.updated" && f.job.chat_id === chat.id);
    expect(announced.job).toMatchObject({ status: "queued", params: { width: 512, height: 768 } });
    expect(announced.job.prompt).toContain(`a fox in a scarf ${tag}. in the snow`);

    const done = await waitForJob(user, announced.job.id);
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    const frame = await pictureFrame(other, chat.id, "complete");
    expect(frame.message.attachments).toMatchObject([{ job_id: done.id, url: done.images[0]?.url }]);
    expect(await pictureMessages(user, chat.id, done.id)).toHaveLength(1);
    const image = await SELF.fetch(done.images[0]?.url ?? "");
    expect(image.status).toBe(200);
    await image.arrayBuffer();
    // The picture is the last reply: it has no words to regenerate or continue.
    for (const type of ["chat.regenerate", "chat.continue"]) {
      const errors = socket.ofType("error").length;
      socket.send({ type, chat_id: chat.id });
      const refused = await socket.next((f) => f.type === "error" && socket.ofType("error").length > errors);
      expect(refused).toMatchObject({ code: "invalid_request", chat_id: chat.id });
    }
    expect(await pictureMessages(user, chat.id, done.id)).toMatchObject([{ swipe_count: 1 }]);
  });

  it("answers errors as error frames: not_found, budget_exhausted with retry_after_s, bad frames", async () => {
    const { user, chat, socket } = await setup("a cat");
    sockets.push(socket);
    const stranger = await setup("a dog");
    sockets.push(stranger.socket);
    stranger.socket.send({ type: "chat.picture", chat_id: chat.id });
    expect((await stranger.socket.nextOf("error", chat.id)).code).toBe("not_found");

    stranger.socket.send({ type: "chat.picture", chat_id: stranger.chat.id, prompt: "" });
    expect((await stranger.socket.nextOf("error", stranger.chat.id)).code).toBe("invalid_request");

    await overrideSessionEnv(user, { DAILY_CREDITS_GUEST: "1" });
    socket.send({ type: "chat.picture", chat_id: chat.id });
    const refused = await socket.nextOf("error", chat.id);
    expect(refused).toMatchObject({ code: "budget_exhausted", chat_id: chat.id });
    expect(refused.retry_after_s).toBeGreaterThan(0);
    expect(await generationsOf(call, user)).toEqual([]);
    expect(await generationsOf(call, stranger.user)).toEqual([]);
    expect(await usedCredits(call, user)).toBe(0);
  });
});

const repositories: Array<[string, () => Repository]> = [
  ["d1", () => repositoryOn(d1Client(env.DB))],
  ["postgres", () => repositoryOn(postgresClient(env.HYPERDRIVE.connectionString))],
];

describe.each(repositories)("picture storage on %s", (_backend, open) => {
  let repo: Repository;
  beforeEach(() => {
    repo = open();
  });
  afterEach(() => repo.sql.close());

  it("keeps a job's chat_id, and stores the picture message once, only while the chat exists", async () => {
    const t = new Date().toISOString();
    const user = await repo.users.create({ id: newId("usr"), display_name: "pic", created_at: t });
    const [character] = await repo.characters.popular(1);
    const chatId = newId("cht");
    await repo.chats.create(
      {
        id: chatId,
        user_id: user.id,
        character_id: character?.id ?? "",
        title: "t",
        created_at: t,
        last_message_at: t,
      },
      null,
    );
    const job: Job = {
      id: newId("gen"),
      user_id: user.id,
      status: "queued",
      prompt: "a cat",
      negative_prompt: "",
      params: { width: 512, height: 768, steps: 20, seed: 1, guidance: 7 },
      character_id: null,
      chat_id: chatId,
      images: [],
      error: null,
      attempts: 0,
      upstream_id: null,
      dead_lettered: false,
      created_at: t,
      started_at: null,
      completed_at: null,
      updated_at: t,
    };
    expect((await repo.jobs.create(job, undefined, { maxActive: 4 })).kind).toBe("created");
    expect((await repo.jobs.get(job.id))?.chat_id).toBe(chatId);
    const images = [{ url: "https://x/images/k.png", width: 512, height: 768, content_type: "image/png" }];
    const done = await repo.jobs.transition(job.id, ["queued"], { status: "succeeded", images }, t);
    expect(done?.chat_id).toBe(chatId);

    const told: unknown[] = [];
    const deps = { chats: repo.chats, notifyChat: async (...args: unknown[]) => void told.push(args) };
    const message = await deliverToChat(done as Job, deps);
    expect(message).toMatchObject({
      chat_id: chatId,
      role: "assistant",
      content: "",
      status: "complete",
      attachments: [{ kind: "image", job_id: job.id, url: images[0]?.url, width: 512, height: 768 }],
    });
    expect(await repo.chats.messages(chatId, 10)).toEqual([message]);
    expect(told).toEqual([[user.id, chatId, [{ type: "chat.message", message }]]]);
    expect((await repo.chats.get(chatId, user.id))?.last_message_at).toBe(message?.created_at);

    // Another user's chat id, or a deleted chat: nothing stored, nobody told.
    expect(
      await repo.chats.addMessageIfChatExists({ ...(message as Message), id: newId("msg") }, "usr_other"),
    ).toBeNull();
    await repo.chats.delete(chatId, user.id);
    expect(await deliverToChat(done as Job, deps)).toBeNull();
    expect(await repo.chats.messages(chatId, 10)).toEqual([]);
    expect(told).toHaveLength(1);
  });
});

describe("POST /chats/:id/pictures on PostgreSQL", { timeout: 30_000 }, () => {
  it("answers 202 with the chat's job, and its cancel leaves a cancelled message there", async () => {
    const postgres = backends.find((b) => b.name === "postgres");
    if (!postgres) throw new Error("no postgres backend");
    const ip = `10.8.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const guest = await postgres.fetch("/auth/guest", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
      body: JSON.stringify({ display_name: "Pat" }),
    });
    expect(guest.status).toBe(201);
    const { token } = await guest.json<{ token: string }>();
    const as = (path: string, body?: unknown) =>
      postgres.fetch(path, {
        method: body === undefined ? "GET" : "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Bearer ${token}`,
          "CF-Connecting-IP": ip,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const chat = await (await as("/chats", { character_id: "chr_sample_marrow_vell" })).json<{
      id: string;
    }>();
    const res = await as(`/chats/${chat.id}/pictures`, { prompt: "at the harbour" });
    expect(res.status, await res.clone().text()).toBe(202);
    const job = await res.json<PublicJob>();
    expect(job).toMatchObject({ chat_id: chat.id, status: "queued", character_id: "chr_sample_marrow_vell" });
    expect(job.prompt.endsWith(". at the harbour")).toBe(true);
    expect((await (await as("/me/usage")).json<{ credits: { used: number } }>()).credits.used).toBe(2);

    // The worker's queue consumer reads D1 and never sees this job: cancel it while queued.
    const cancelled = await as(`/generations/${job.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    const page = await (await as(`/chats/${chat.id}/messages`)).json<{ items: StoredMessage[] }>();
    expect(page.items[0]).toMatchObject({
      role: "assistant",
      status: "cancelled",
      content: "",
      attachments: [],
    });
    expect(page.items.filter((m) => m.status === "cancelled")).toHaveLength(1);
    expect((await (await as("/me/usage")).json<{ credits: { used: number } }>()).credits.used).toBe(0);
  });
});
