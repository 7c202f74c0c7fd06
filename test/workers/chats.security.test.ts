import { describe, expect, it } from "vitest";
import { problem } from "./support/api";
import { type Chat, call, newCharacter, newChat, newUser, type Page } from "./support/session";

describe("chats over REST: owner only", () => {
  it("does not start a chat with another user's private character", async () => {
    const ann = await newUser();
    const bob = await newUser("Bob");
    const secret = await newCharacter(ann, { is_public: false });
    const res = await call(bob, "/chats", { json: { character_id: secret.id } });
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("not_found");
  });

  it("returns 404 for another user's chat, its messages and delete, and never lists it", async () => {
    const ann = await newUser();
    const bob = await newUser("Bob");
    const lyra = await newCharacter(ann, { is_public: true });
    const chat = await newChat(ann, lyra.id);

    const read = await call(bob, `/chats/${chat.id}/messages`);
    expect(read.status).toBe(404);
    expect((await problem(read)).code).toBe("not_found");
    const one = await call(bob, `/chats/${chat.id}`);
    expect(one.status).toBe(404);
    expect((await problem(one)).code).toBe("not_found");
    const del = await call(bob, `/chats/${chat.id}`, { method: "DELETE" });
    expect(del.status).toBe(404);
    const list = await (await call(bob, "/chats")).json<Page<Chat>>();
    expect(list.items.map((c) => c.id)).not.toContain(chat.id);

    // Still there for its owner.
    expect((await call(ann, `/chats/${chat.id}/messages`)).status).toBe(200);
    expect((await call(ann, `/chats/${chat.id}`)).status).toBe(200);
  });
});
