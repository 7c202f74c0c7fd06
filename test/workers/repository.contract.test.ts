import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { d1Client } from "../../src/db/d1-client";
import type { Job, Message, NewMessage } from "../../src/db/models";
import { postgresClient } from "../../src/db/postgres-client";
import { type Repository, repositoryOn } from "../../src/db/repository";
import { newId } from "../../src/lib/ids";

/**
 * One contract, two adapters: every behaviour the routes rely on, run against D1 (inside
 * workerd) and against a real PostgreSQL reached through the HYPERDRIVE binding.
 */
const backends: Array<[string, () => Repository]> = [
  ["d1", () => repositoryOn(d1Client(env.DB))],
  ["postgres", () => repositoryOn(postgresClient(env.HYPERDRIVE.connectionString))],
];

describe.each(backends)("repository contract on %s", (backend, open) => {
  // A connection per test, as production opens one per request.
  let repo: Repository;
  beforeEach(() => {
    repo = open();
  });
  afterEach(() => repo.sql.close());
  const now = () => new Date().toISOString();

  async function user() {
    const id = newId("usr");
    return repo.users.create({ id, display_name: `u-${backend}`, created_at: now() });
  }

  it("reports its dialect and answers ping", async () => {
    expect(repo.sql.dialect).toBe(backend === "d1" ? "sqlite" : "postgres");
    await expect(repo.ping()).resolves.toBeUndefined();
  });

  it("stores and reads users with ISO timestamps", async () => {
    const u = await user();
    expect(await repo.users.get(u.id)).toEqual(u);
    expect(await repo.users.get("usr_missing")).toBeNull();
  });

  it("has the sample characters, ordered by chat_count for popular", async () => {
    const popular = await repo.characters.popular(12);
    expect(popular).toHaveLength(12);
    const counts = popular.map((c) => c.chat_count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(popular[0]?.tags.length).toBeGreaterThan(0);
  });

  it("creates, lists, filters, updates and deletes characters with owner checks", async () => {
    const owner = await user();
    const other = await user();
    const tag = `tag${crypto.randomUUID().slice(0, 8)}`;
    const created = await repo.characters.create(
      {
        id: newId("chr"),
        owner_id: owner.id,
        name: `Contract ${backend} 100%_match`,
        description: "Quotes ' and \" and emoji ✨",
        personality: "",
        scenario: "",
        greeting: "Hi {{user}}",
        system_prompt: "",
        example_dialogue: "",
        tags: [tag, "shared"],
        avatar_url: null,
        is_public: false,
        created_at: now(),
      },
      { kept: { deep: [1, 2, 3] } },
    );
    expect(await repo.characters.get(created.id, owner.id)).toEqual(created);
    expect(await repo.characters.get(created.id, other.id)).toBeNull();
    expect(await repo.characters.get(created.id, null)).toBeNull();
    expect(await repo.characters.cardExtras(created.id)).toEqual({ kept: { deep: [1, 2, 3] } });

    const byTag = await repo.characters.list({ viewerId: owner.id, limit: 10, tag });
    expect(byTag.map((c) => c.id)).toEqual([created.id]);
    expect(await repo.characters.list({ viewerId: other.id, limit: 10, tag })).toEqual([]);
    const byText = await repo.characters.list({ viewerId: owner.id, limit: 10, q: "100%_MATCH" });
    expect(byText.map((c) => c.id)).toEqual([created.id]);
    expect(await repo.characters.list({ viewerId: owner.id, limit: 10, q: "100%%" })).toEqual([]);

    expect(await repo.characters.update(created.id, other.id, { name: "nope" }, now())).toBeNull();
    const updated = await repo.characters.update(
      created.id,
      owner.id,
      { name: "Renamed", tags: ["retagged"], is_public: true },
      now(),
    );
    expect(updated).toMatchObject({ name: "Renamed", tags: ["retagged"], is_public: true });
    expect(await repo.characters.list({ viewerId: null, limit: 10, tag })).toEqual([]);
    expect(await repo.characters.delete(created.id, other.id)).toBe(false);
    expect(await repo.characters.delete(created.id, owner.id)).toBe(true);
    expect(await repo.characters.get(created.id, owner.id)).toBeNull();
  });

  it("paginates characters by (created_at, id) without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: { sort: string; id: string } | undefined;
    for (;;) {
      const rows = await repo.characters.list({ viewerId: null, limit: 5, cursor });
      seen.push(...rows.slice(0, 5).map((r) => r.id));
      const last = rows[4];
      if (rows.length <= 5 || !last) break;
      cursor = { sort: last.created_at, id: last.id };
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(12);
  });

  it("keeps chats and their history, newest first, with `before` paging", async () => {
    const u = await user();
    const character = (await repo.characters.popular(1))[0];
    if (!character) throw new Error("no sample character");
    const chatId = newId("cht");
    const t0 = Date.now();
    const greeting: NewMessage = {
      id: newId("msg", t0),
      chat_id: chatId,
      role: "assistant",
      content: "Welcome",
      status: "complete",
      created_at: new Date(t0).toISOString(),
    };
    await repo.chats.create(
      {
        id: chatId,
        user_id: u.id,
        character_id: character.id,
        title: character.name,
        created_at: greeting.created_at,
        last_message_at: greeting.created_at,
      },
      greeting,
    );
    const messages: NewMessage[] = [greeting];
    for (let i = 1; i <= 4; i++) {
      const t = t0 + i * 1000;
      const m: NewMessage = {
        id: newId("msg", t),
        chat_id: chatId,
        role: i % 2 ? "user" : "assistant",
        content: `m${i}`,
        status: i === 4 ? "cancelled" : "complete",
        created_at: new Date(t).toISOString(),
      };
      messages.push(await repo.chats.addMessage(m, u.id));
    }
    const newest = await repo.chats.messages(chatId, 3);
    expect(newest.map((m) => m.content)).toEqual(["m4", "m3", "m2"]);
    expect(newest[0]?.status).toBe("cancelled");
    const older = await repo.chats.messages(chatId, 3, newest[2]);
    expect(older.map((m) => m.content)).toEqual(["m1", "Welcome"]);
    // The first page with the ownership check in the same query: the same rows, or null.
    expect(await repo.chats.ownedMessages(chatId, u.id, 3)).toEqual(newest);
    expect(await repo.chats.ownedMessages(chatId, u.id, 10)).toEqual(await repo.chats.messages(chatId, 10));
    expect(await repo.chats.ownedMessages(chatId, "usr_other", 3)).toBeNull();
    expect(await repo.chats.ownedMessages("cht_missing", u.id, 3)).toBeNull();
    const emptyId = newId("cht");
    const at = new Date().toISOString();
    await repo.chats.create(
      {
        id: emptyId,
        user_id: u.id,
        character_id: character.id,
        title: "empty",
        created_at: at,
        last_message_at: at,
      },
      null,
    );
    expect(await repo.chats.ownedMessages(emptyId, u.id, 3)).toEqual([]);
    expect(await repo.chats.delete(emptyId, u.id)).toBe(true);
    const chats = await repo.chats.list(u.id, 10);
    expect(chats).toHaveLength(1);
    expect(chats[0]?.last_message_at).toBe(messages[4]?.created_at);
    expect((await repo.characters.get(character.id, null))?.chat_count).toBe(character.chat_count + 1);
    expect(await repo.chats.get(chatId, "usr_other")).toBeNull();
    expect(await repo.chats.delete(chatId, "usr_other")).toBe(false);
    expect(await repo.chats.delete(chatId, u.id)).toBe(true);
    expect(await repo.chats.messages(chatId, 10)).toEqual([]);
  });

  it("keeps alternatives, edits, attachments, deletes from a message on, and the chat's summary", async () => {
    const u = await user();
    const character = (await repo.characters.popular(1))[0];
    if (!character) throw new Error("no sample character");
    const chatId = newId("cht");
    const t0 = Date.now();
    const at = (i: number) => new Date(t0 + i * 1000).toISOString();
    await repo.chats.create(
      {
        id: chatId,
        user_id: u.id,
        character_id: character.id,
        title: "t",
        created_at: at(0),
        last_message_at: at(0),
      },
      null,
    );
    const ids = [0, 1, 2, 3].map((i) => newId("msg", t0 + i * 1000));
    const stored: Message[] = [];
    for (const [i, id] of ids.entries()) {
      stored.push(
        await repo.chats.addMessage(
          {
            id,
            chat_id: chatId,
            role: i % 2 ? "assistant" : "user",
            content: `m${i}`,
            status: "complete",
            created_at: at(i),
          },
          u.id,
        ),
      );
    }
    expect(stored[1]).toMatchObject({ swipe_index: 0, swipe_count: 1, edited_at: null, attachments: [] });

    const last = await repo.chats.lastMessage(chatId);
    expect(last?.id).toBe(ids[3]);
    if (!last) throw new Error("no last message");
    const attachment = {
      kind: "image" as const,
      job_id: "job_x",
      url: "https://x/i.png",
      width: 512,
      height: 512,
    };
    const swiped = {
      ...last,
      swipes: [...last.swipes, { content: "alt ✨ ' \"", created_at: at(5) }],
      swipe_index: 1,
      swipe_count: 2,
      content: "alt ✨ ' \"",
      edited_at: at(6),
      attachments: [attachment],
    };
    expect(await repo.chats.saveMessage(swiped, "usr_other")).toBe(false);
    expect(await repo.chats.saveMessage(swiped, u.id)).toBe(true);
    expect(await repo.chats.fullMessage(chatId, last.id)).toEqual(swiped);
    const [newest] = await repo.chats.messages(chatId, 1);
    expect(newest).toEqual({
      id: last.id,
      chat_id: chatId,
      role: "assistant",
      content: "alt ✨ ' \"",
      status: "complete",
      created_at: at(3),
      swipe_index: 1,
      swipe_count: 2,
      edited_at: at(6),
      attachments: [attachment],
    });

    const summarised = await repo.chats.update(chatId, u.id, {
      summary: "They met.",
      summary_through: ids[2],
    });
    expect(summarised).toMatchObject({ summary: "They met.", summary_through: ids[2], title: "t" });
    expect(await repo.chats.update(chatId, "usr_other", { title: "x" })).toBeNull();
    expect((await repo.chats.get(chatId, u.id))?.title).toBe("t");

    const from = stored[2];
    if (!from) throw new Error("no message");
    expect(await repo.chats.deleteFrom(chatId, "usr_other", from)).toEqual([]);
    expect(await repo.chats.deleteFrom(chatId, u.id, from)).toEqual([ids[2], ids[3]]);
    expect((await repo.chats.fullMessages(chatId)).map((m) => m.id)).toEqual([ids[0], ids[1]]);
    // The summary stays; the folded-through mark no longer points at a deleted message.
    expect(await repo.chats.get(chatId, u.id)).toMatchObject({ summary: "They met.", summary_through: null });
  });

  it("imports a chat with all its messages at once", async () => {
    const u = await user();
    const character = (await repo.characters.popular(1))[0];
    if (!character) throw new Error("no sample character");
    const chatId = newId("cht");
    const t0 = Date.now();
    const messages: NewMessage[] = Array.from({ length: 3 }, (_, i) => ({
      id: newId("msg", t0 + i),
      chat_id: chatId,
      role: i % 2 ? "assistant" : "user",
      content: `i${i}`,
      status: "complete",
      created_at: new Date(t0 + i).toISOString(),
      ...(i === 1
        ? {
            swipes: [
              { content: "a", created_at: new Date(t0).toISOString() },
              { content: `i${i}`, created_at: new Date(t0 + i).toISOString() },
            ],
            swipe_index: 1,
          }
        : {}),
    }));
    const chat = await repo.chats.importChat(
      {
        id: chatId,
        user_id: u.id,
        character_id: character.id,
        title: "imported",
        created_at: new Date(t0).toISOString(),
        last_message_at: new Date(t0 + 2).toISOString(),
        summary: "S",
        summary_through: null,
      },
      messages,
    );
    expect(await repo.chats.get(chatId, u.id)).toEqual(chat);
    const full = await repo.chats.fullMessages(chatId);
    expect(full.map((m) => [m.content, m.swipe_index, m.swipe_count])).toEqual([
      ["i0", 0, 1],
      ["i1", 1, 2],
      ["i2", 0, 1],
    ]);
  });

  it("reads what starting a chat needs in one query, as get, users.get and countOwned read it", async () => {
    const author = await user();
    const reader = await user();
    const at = now();
    const base = {
      description: "d",
      personality: "",
      scenario: "",
      greeting: "Hi {{user}}",
      system_prompt: "",
      example_dialogue: "",
      tags: ["x"],
      avatar_url: null,
      created_at: at,
    };
    const open = await repo.characters.create({
      ...base,
      id: newId("chr"),
      owner_id: author.id,
      name: "Open",
      is_public: true,
    });
    const own = await repo.characters.create({
      ...base,
      id: newId("chr"),
      owner_id: author.id,
      name: "Own",
      is_public: false,
    });
    await repo.chats.create(
      {
        id: newId("cht"),
        user_id: reader.id,
        character_id: open.id,
        title: "t",
        created_at: at,
        last_message_at: at,
      },
      null,
    );
    const start = await repo.characters.chatStart(open.id, reader.id);
    expect(start.character).toEqual(await repo.characters.get(open.id, reader.id));
    expect(start.user).toEqual(await repo.users.get(reader.id));
    expect(start.chatsOwned).toBe(await repo.chats.countOwned(reader.id));
    expect(start.chatsOwned).toBe(1);
    // Another user's private character is not there for them; their own is.
    expect((await repo.characters.chatStart(own.id, reader.id)).character).toBeNull();
    expect((await repo.characters.chatStart(own.id, author.id)).character).toEqual(
      await repo.characters.get(own.id, author.id),
    );
    expect(await repo.characters.chatStart("chr_missing", "usr_missing")).toEqual({
      character: null,
      user: null,
      chatsOwned: 0,
    });
  });

  it("reads a chat's character for the chat's owner only, while it stays visible to them", async () => {
    const author = await user();
    const reader = await user();
    const at = now();
    const character = await repo.characters.create({
      id: newId("chr"),
      owner_id: author.id,
      name: `Shared ${backend}`,
      description: "",
      personality: "",
      scenario: "",
      greeting: "",
      system_prompt: "",
      example_dialogue: "",
      tags: [],
      avatar_url: null,
      is_public: true,
      created_at: at,
    });
    const chatId = newId("cht");
    const chat = {
      id: chatId,
      user_id: reader.id,
      character_id: character.id,
      title: character.name,
      created_at: at,
      last_message_at: at,
    };
    await repo.chats.create(chat, null);
    expect((await repo.characters.ofChat(chatId, reader.id))?.id).toBe(character.id);
    expect(await repo.characters.ofChat(chatId, author.id)).toBeNull();
    expect(await repo.characters.ofChat("cht_missing", reader.id)).toBeNull();
    await repo.characters.update(character.id, author.id, { is_public: false }, now());
    expect(await repo.characters.ofChat(chatId, reader.id)).toBeNull();
  });

  it("creates jobs idempotently and moves them by compare-and-set only", async () => {
    const u = await user();
    const t = now();
    const job = (id: string): Job => ({
      id,
      user_id: u.id,
      status: "queued",
      prompt: "a cat",
      negative_prompt: "",
      character_id: null,
      params: { width: 512, height: 512, steps: 20, seed: 7, guidance: 7 },
      images: [],
      error: null,
      attempts: 0,
      upstream_id: null,
      dead_lettered: false,
      created_at: t,
      started_at: null,
      completed_at: null,
      updated_at: t,
    });
    const first = await repo.jobs.create(job(newId("job")), { key: "k1", requestHash: "h1" });
    expect(first.kind).toBe("created");
    const replay = await repo.jobs.create(job(newId("job")), { key: "k1", requestHash: "h1" });
    expect(replay.kind === "replayed" && replay.job.id).toBe(first.kind === "created" && first.job.id);
    expect((await repo.jobs.create(job(newId("job")), { key: "k1", requestHash: "h2" })).kind).toBe(
      "key_conflict",
    );
    expect(await repo.jobs.countActive(u.id)).toBe(1);

    const id = first.kind === "created" ? first.job.id : "";
    const running = await repo.jobs.transition(
      id,
      ["queued"],
      { status: "running", started_at: now(), attempts: 1 },
      now(),
    );
    expect(running?.status).toBe("running");
    expect(await repo.jobs.transition(id, ["queued"], { status: "running" }, now())).toBeNull();
    const images = [
      { url: "https://x/images/k.png", width: 512, height: 512, content_type: "image/png", key: "k.png" },
    ];
    const done = await repo.jobs.transition(
      id,
      ["running"],
      { status: "succeeded", images, completed_at: now() },
      now(),
    );
    expect(done?.images).toEqual(images);
    expect(
      await repo.jobs.transition(
        id,
        ["queued", "running"],
        { status: "failed", error: { code: "x", message: "y" } },
        now(),
      ),
    ).toBeNull();
    expect((await repo.jobs.get(id, u.id))?.status).toBe("succeeded");
    expect(await repo.jobs.get(id, "usr_other")).toBeNull();
    expect(await repo.jobs.countActive(u.id)).toBe(0);
    const listed = await repo.jobs.list(u.id, 10, undefined, "succeeded");
    expect(listed.map((j) => j.id)).toEqual([id]);
  });
});
