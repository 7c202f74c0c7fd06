import { describe, expect, it } from "vitest";
import type { Message, NewMessage } from "../../src/db/models";
import { newId } from "../../src/lib/ids";
import { backends } from "./support/backends";
import type { Chat, Page, TestUser, Message as WireMessage } from "./support/session";

describe.each(backends)("chats over REST on $name", (backend) => {
  const ip = () => `10.7.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

  async function user(name = "Ann"): Promise<TestUser> {
    const address = ip();
    const res = await backend.fetch("/auth/guest", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": address },
      body: JSON.stringify({ display_name: name }),
    });
    expect(res.status).toBe(201);
    return { ...(await res.json<Omit<TestUser, "ip">>()), ip: address };
  }

  function as(u: TestUser, path: string, init: RequestInit & { json?: unknown } = {}) {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${u.token}`);
    headers.set("CF-Connecting-IP", u.ip);
    const { json, ...rest } = init;
    if (json !== undefined) headers.set("Content-Type", "application/json");
    return backend.fetch(path, {
      ...rest,
      headers,
      ...(json !== undefined ? { method: "POST", body: JSON.stringify(json) } : {}),
    });
  }

  async function character(owner: TestUser, fields: Record<string, unknown> = {}) {
    const res = await as(owner, "/characters", {
      json: {
        name: "Lyra the Bard",
        greeting: "Hello {{USER}}, I am {{char}}. <bot> greets <User>.",
        ...fields,
      },
    });
    expect(res.status).toBe(201);
    return res.json<{ id: string; name: string; chat_count: number }>();
  }

  async function chat(owner: TestUser, characterId: string) {
    const res = await as(owner, "/chats", { json: { character_id: characterId } });
    expect(res.status).toBe(201);
    return res.json<Chat>();
  }

  it("creates a chat titled after the character, its greeting stored with macros filled in", async () => {
    const ann = await user("Ann");
    const lyra = await character(ann);
    const res = await as(ann, "/chats", { json: { character_id: lyra.id } });
    expect(res.status).toBe(201);
    const created = await res.json<Chat>();
    expect(created).toEqual({
      id: expect.stringMatching(/^cht_/),
      character_id: lyra.id,
      title: "Lyra the Bard",
      created_at: expect.any(String),
      last_message_at: created.created_at,
    });
    const page = await (await as(ann, `/chats/${created.id}/messages`)).json<Page<WireMessage>>();
    expect(page.items).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        chat_id: created.id,
        role: "assistant",
        content: "Hello Ann, I am Lyra the Bard. Lyra the Bard greets Ann.",
        status: "complete",
        created_at: created.created_at,
      },
    ]);
    expect(page.next_cursor).toBeNull();
    const after = await (await as(ann, `/characters/${lyra.id}`)).json<{ chat_count: number }>();
    expect(after.chat_count).toBe(1);
  });

  it("reads one chat by id, as the list shows it", async () => {
    const ann = await user();
    const lyra = await character(ann);
    const created = await chat(ann, lyra.id);
    const res = await as(ann, `/chats/${created.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(created);
  });

  it("starts with no messages when the character has no greeting", async () => {
    const ann = await user();
    const silent = await character(ann, { greeting: "" });
    const created = await chat(ann, silent.id);
    const page = await (await as(ann, `/chats/${created.id}/messages`)).json<Page<WireMessage>>();
    expect(page.items).toEqual([]);
  });

  it("chats with a public sample character", async () => {
    const ann = await user();
    const created = await chat(ann, "chr_sample_marrow_vell");
    expect(created.title).toBe("Marrow Vell, Fogbound Apothecary");
  });

  it("lists the caller's chats by most recent activity, with a cursor", async () => {
    const ann = await user();
    const lyra = await character(ann);
    const first = await chat(ann, lyra.id);
    const second = await chat(ann, lyra.id);
    const third = await chat(ann, lyra.id);
    // New activity in the first chat moves it to the top.
    const repo = backend.repo();
    try {
      const at = new Date(Date.now() + 1000).toISOString();
      const m: NewMessage = {
        id: newId("msg"),
        chat_id: first.id,
        role: "user",
        content: "hi",
        status: "complete",
        created_at: at,
      };
      await repo.chats.addMessage(m, ann.user.id);
    } finally {
      await repo.sql.close();
    }
    const page1 = await (await as(ann, "/chats?limit=2")).json<Page<Chat>>();
    expect(page1.items.map((c) => c.id)).toEqual([first.id, third.id]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const page2 = await (await as(ann, `/chats?limit=2&cursor=${page1.next_cursor}`)).json<Page<Chat>>();
    expect(page2.items.map((c) => c.id)).toEqual([second.id]);
    expect(page2.next_cursor).toBeNull();
  });

  it("pages messages newest first with limit and before", async () => {
    const ann = await user();
    const lyra = await character(ann);
    const created = await chat(ann, lyra.id);
    const repo = backend.repo();
    const base = Date.now() + 1000;
    const added: Message[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const at = base + i;
        const role = i % 2 === 0 ? "user" : "assistant";
        const m: NewMessage = {
          id: newId("msg", at),
          chat_id: created.id,
          role,
          content: `m${i}`,
          status: "complete",
          created_at: new Date(at).toISOString(),
        };
        added.push(await repo.chats.addMessage(m, ann.user.id));
      }
    } finally {
      await repo.sql.close();
    }
    const first = await (await as(ann, `/chats/${created.id}/messages?limit=2`)).json<Page<WireMessage>>();
    expect(first.items.map((m) => m.content)).toEqual(["m4", "m3"]);
    expect(first.next_cursor).toBe(first.items[1]?.id);
    const second = await (
      await as(ann, `/chats/${created.id}/messages?limit=2&before=${first.next_cursor}`)
    ).json<Page<WireMessage>>();
    expect(second.items.map((m) => m.content)).toEqual(["m2", "m1"]);
    const last = await (
      await as(ann, `/chats/${created.id}/messages?limit=2&before=${second.next_cursor}`)
    ).json<Page<WireMessage>>();
    expect(last.items.map((m) => m.content)).toEqual(["m0", expect.stringContaining("Lyra")]);
    expect(last.next_cursor).toBeNull();
  });

  it("deletes a chat with its messages", async () => {
    const ann = await user();
    const lyra = await character(ann);
    const created = await chat(ann, lyra.id);
    const res = await as(ann, `/chats/${created.id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect((await as(ann, `/chats/${created.id}/messages`)).status).toBe(404);
    expect((await as(ann, `/chats/${created.id}`, { method: "DELETE" })).status).toBe(404);
    const list = await (await as(ann, "/chats")).json<Page<Chat>>();
    expect(list.items).toEqual([]);
  });
});
