import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api } from "./support/api";
import { call, newChat, newUser, openSocket } from "./support/session";

interface CharacterBody {
  id: string;
  appearance: string;
  character_book: { name?: string; entries: { keys: string[]; content: string; name?: string }[] } | null;
}

const book = {
  name: "Glade lore",
  extensions: { some_tool: { kept: true } },
  entries: [
    {
      keys: ["lantern"],
      content: "The lantern never goes out.",
      enabled: true,
      insertion_order: 1,
      name: "Lantern",
    },
    { keys: ["zzz-never"], content: "Never said.", enabled: true, insertion_order: 2 },
  ],
};

describe("characters' appearance and lorebook", () => {
  it("POST sets them, PATCH changes them, GET shows them, and a turn's key fires the entry in /context", async () => {
    const user = await newUser("Ann");
    const created = await call(user, "/characters", {
      json: { name: "Keeper", appearance: "A tall woman with a green cloak.", character_book: book },
    });
    expect(created.status).toBe(201);
    const character = await created.json<CharacterBody>();
    expect(character.appearance).toBe("A tall woman with a green cloak.");
    expect(character.character_book).toEqual(book);

    const renamed = {
      ...book,
      entries: [{ ...book.entries[0], keys: ["beacon"], name: "Beacon" }, book.entries[1]],
    };
    const patched = await call(user, `/characters/${character.id}`, {
      method: "PATCH",
      json: { character_book: renamed, appearance: "Silver hair." },
    });
    expect(patched.status).toBe(200);
    const fetched = await (await call(user, `/characters/${character.id}`)).json<CharacterBody>();
    expect(fetched.appearance).toBe("Silver hair.");
    expect(fetched.character_book).toEqual(renamed);

    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    socket.send({
      type: "chat.send",
      chat_id: chat.id,
      content: "Light the beacon, please.",
      client_id: "b-1",
    });
    await socket.next((f) => f.type === "chat.done" && f.chat_id === chat.id);
    const context = await (await call(user, `/chats/${chat.id}/context`)).json<{
      lore: { index: number; name: string | null }[];
      messages: { content: string }[];
    }>();
    expect(context.lore).toEqual([{ index: 0, name: "Beacon" }]);
    expect(context.messages[0]?.content).toContain("The lantern never goes out.");
    socket.close();

    // null removes the book; nothing fires any more.
    const cleared = await call(user, `/characters/${character.id}`, {
      method: "PATCH",
      json: { character_book: null },
    });
    expect((await cleared.json<CharacterBody>()).character_book).toBeNull();
    const after = await (await call(user, `/chats/${chat.id}/context`)).json<{ lore: unknown[] }>();
    expect(after.lore).toEqual([]);
  });

  it("refuses a malformed book or a long appearance with 400 and changes nothing", async () => {
    const user = await newUser("Ann");
    const created = await call(user, "/characters", { json: { name: "Keeper", character_book: book } });
    const character = await created.json<CharacterBody>();
    const badBook = await call(user, `/characters/${character.id}`, {
      method: "PATCH",
      json: { character_book: { entries: [{ keys: "lantern", content: 3 }] } },
    });
    expect(badBook.status).toBe(400);
    expect(badBook.headers.get("Content-Type")).toContain("application/problem+json");
    const longAppearance = await call(user, `/characters/${character.id}`, {
      method: "PATCH",
      json: { appearance: "x".repeat(1001) },
    });
    expect(longAppearance.status).toBe(400);
    const badCreate = await call(user, "/characters", { json: { name: "Other", character_book: "lore" } });
    expect(badCreate.status).toBe(400);
    const fetched = await (await call(user, `/characters/${character.id}`)).json<CharacterBody>();
    expect(fetched.character_book).toEqual(book);
    expect(fetched.appearance).toBe("");
  });

  it("a card's lorebook goes into the column at import and back into the card at export", async () => {
    const user = await newUser("Ann");
    const b64 = env.TEST_CARD_PNGS.seraphina;
    if (!b64) throw new Error("no fixture");
    const png = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const headers = { Authorization: `Bearer ${user.token}`, "CF-Connecting-IP": user.ip };
    const imported = await api("/characters/import", {
      method: "POST",
      headers: { ...headers, "Content-Type": "image/png" },
      body: png,
    });
    expect(imported.status).toBe(201);
    const seraphina = await imported.json<CharacterBody>();
    expect(seraphina.character_book?.entries.length).toBeGreaterThan(1);
    const exported = await api(`/characters/${seraphina.id}/card`, { headers });
    const card = await exported.json<{ data: { character_book: unknown } }>();
    expect(card.data.character_book).toEqual(seraphina.character_book);
  });
});
