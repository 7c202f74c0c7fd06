import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { d1Client } from "../../src/db/d1-client";
import type { Character } from "../../src/db/models";
import { CharacterTextCache, composeCharacter, SETTLED_MS } from "../../src/db/repos/character-text-cache";
import { repositoryOn } from "../../src/db/repository";
import { newId } from "../../src/lib/ids";

const iso = (ms: number) => new Date(ms).toISOString();

function character(overrides: Partial<Character> = {}): Character {
  return {
    id: newId("chr"),
    owner_id: null,
    name: "Cached Bard",
    description: "Sings of caches.",
    personality: "",
    scenario: "",
    greeting: "Hi",
    system_prompt: "",
    example_dialogue: "",
    tags: ["music"],
    avatar_url: null,
    is_public: true,
    appearance: "",
    character_book: null,
    chat_count: 0,
    created_at: iso(Date.now() - 2 * SETTLED_MS),
    updated_at: iso(Date.now() - 2 * SETTLED_MS),
    ...overrides,
  };
}

describe("CharacterTextCache", () => {
  it("keeps only settled text, per backend, for one updated_at", () => {
    const cache = new CharacterTextCache();
    const settled = character();
    const recent = character({ updated_at: iso(Date.now() - 1000) });
    cache.remember("sqlite", settled);
    cache.remember("sqlite", recent);
    expect(cache.get("sqlite", settled)?.name).toBe("Cached Bard");
    expect(cache.get("sqlite", recent)).toBeUndefined();
    expect(cache.get("postgres", settled)).toBeUndefined();
    // Another updated_at is an edit since: a miss, and the old copy is dropped.
    expect(cache.get("sqlite", { id: settled.id, updated_at: iso(Date.now()) })).toBeUndefined();
    expect(cache.get("sqlite", settled)).toBeUndefined();
  });

  it("drops the least recently used past its size", () => {
    const cache = new CharacterTextCache(2);
    const [a, b, c] = [character(), character(), character()];
    cache.remember("sqlite", a);
    cache.remember("sqlite", b);
    expect(cache.get("sqlite", a)).toBeDefined(); // a is now the most recent
    cache.remember("sqlite", c);
    expect(cache.size).toBe(2);
    expect(cache.get("sqlite", b)).toBeUndefined();
    expect(cache.get("sqlite", a)).toBeDefined();
    expect(cache.get("sqlite", c)).toBeDefined();
  });

  it("composes a character equal to the row, key order included", () => {
    const full = character({ chat_count: 3, owner_id: "usr_x", character_book: { entries: [] } });
    const cache = new CharacterTextCache();
    cache.remember("sqlite", full);
    const text = cache.get("sqlite", full);
    if (!text) throw new Error("expected a hit");
    const composed = composeCharacter(
      {
        id: full.id,
        owner_id: full.owner_id,
        is_public: full.is_public,
        chat_count: full.chat_count,
        created_at: full.created_at,
        updated_at: full.updated_at,
      },
      text,
    );
    expect(JSON.stringify(composed)).toBe(JSON.stringify(full));
  });
});

describe("characters.list with the isolate's text copies", () => {
  const repo = () => repositoryOn(d1Client(env.DB));
  const tag = () => `t${crypto.randomUUID().slice(0, 8)}`;

  async function seeded(t: string, overrides: Partial<Character> = {}) {
    const owner = await repo().users.create({
      id: newId("usr"),
      display_name: "o",
      created_at: iso(Date.now()),
    });
    const made = character({ owner_id: owner.id, tags: [t], ...overrides });
    const { chat_count: _count, updated_at: _updated, ...input } = made;
    await repo().characters.create(input);
    return { owner, made };
  }

  /** What one full query returns (the list's answer before the text copies). */
  async function direct(id: string): Promise<Record<string, unknown>> {
    const rows = await repo().sql.all<Record<string, unknown>>(
      sql`SELECT id, owner_id, name, description, personality, scenario, greeting, system_prompt, example_dialogue, tags, avatar_url, is_public, appearance, character_book, chat_count, created_at, updated_at FROM characters WHERE id = ${id}`,
    );
    const row = rows[0] ?? {};
    return {
      ...row,
      tags: JSON.parse(String(row.tags)),
      is_public: Boolean(row.is_public),
      character_book: row.character_book ? JSON.parse(String(row.character_book)) : null,
      chat_count: Number(row.chat_count),
    };
  }

  it("answers a warm page exactly as a cold one, byte for byte", async () => {
    const t = tag();
    const { made } = await seeded(t, { character_book: { entries: [{ keys: ["a"], content: "b" }] } });
    const cold = await repo().characters.list({ viewerId: null, limit: 10, tag: t });
    const warm = await repo().characters.list({ viewerId: null, limit: 10, tag: t });
    expect(JSON.stringify(warm)).toBe(JSON.stringify(cold));
    expect(JSON.stringify(warm[0])).toBe(JSON.stringify(await direct(made.id)));
  });

  it("shows edits, counts, owner moves and visibility at once while the text is kept", async () => {
    const t = tag();
    const { owner, made } = await seeded(t);
    await repo().characters.list({ viewerId: null, limit: 10, tag: t }); // warm
    await repo().characters.incrementChatCount(made.id);
    let [row] = await repo().characters.list({ viewerId: null, limit: 10, tag: t });
    expect(row?.chat_count).toBe(1);

    // A guest's characters move to their account without touching updated_at.
    const account = await repo().users.create({
      id: newId("usr"),
      display_name: "a",
      created_at: iso(Date.now()),
    });
    await repo().sql.run(sql`UPDATE characters SET owner_id = ${account.id} WHERE owner_id = ${owner.id}`);
    [row] = await repo().characters.list({ viewerId: null, limit: 10, tag: t });
    expect(row?.owner_id).toBe(account.id);

    await repo().characters.update(made.id, account.id, { name: "Renamed Bard" }, iso(Date.now()));
    [row] = await repo().characters.list({ viewerId: null, limit: 10, tag: t });
    expect(row?.name).toBe("Renamed Bard");
    expect(JSON.stringify(row)).toBe(JSON.stringify(await direct(made.id)));

    await repo().characters.update(made.id, account.id, { is_public: false }, iso(Date.now()));
    expect(await repo().characters.list({ viewerId: null, limit: 10, tag: t })).toEqual([]);
    [row] = await repo().characters.list({ viewerId: account.id, limit: 10, tag: t });
    expect(row?.is_public).toBe(false);
  });

  it("never keeps text edited within SETTLED_MS, so two edits in one millisecond both show", async () => {
    // An edit inside the last SETTLED_MS is never kept: a second edit in the same millisecond
    // (same updated_at) still shows.
    const t = tag();
    const stamp = iso(Date.now());
    const { owner, made } = await seeded(t, { created_at: stamp });
    await repo().characters.update(made.id, owner.id, { name: "First" }, stamp);
    await repo().characters.list({ viewerId: null, limit: 10, tag: t });
    await repo().characters.update(made.id, owner.id, { name: "Second" }, stamp);
    const [row] = await repo().characters.list({ viewerId: null, limit: 10, tag: t });
    expect(row?.name).toBe("Second");
  });
});
