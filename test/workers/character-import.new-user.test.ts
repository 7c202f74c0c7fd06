import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { extractCardFromPng } from "../../src/cards";
import { api, bearer, json, newGuest, ORIGIN, problem } from "./support/api";

// Issue 16.3: what a new user cares about in an imported card.

function fixturePng(name: string): Uint8Array {
  const b64 = env.TEST_CARD_PNGS[name];
  if (!b64) throw new Error(`no fixture ${name}`);
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

function importPng(token: string, bytes: Uint8Array, qs = "") {
  return api(`/characters/import${qs}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "image/png" },
    body: bytes,
  });
}

interface Character {
  id: string;
  name: string;
  avatar_url: string | null;
  tags: string[];
}

describe("a PNG card's portrait", () => {
  it("becomes the character's avatar, served from /images without the card inside", async () => {
    const guest = await newGuest();
    const res = await importPng(guest.token, fixturePng("seraphina"));
    expect(res.status).toBe(201);
    const character = await res.json<Character>();
    expect(character.avatar_url).toMatch(
      new RegExp(`^${ORIGIN}/images/[0-9a-f]{40}/${character.id}-0\\.png$`),
    );
    const image = await SELF.fetch(character.avatar_url ?? "");
    expect(image.status).toBe(200);
    expect(image.headers.get("Content-Type")).toBe("image/png");
    const bytes = new Uint8Array(await image.arrayBuffer());
    expect([...bytes.slice(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    // The picture only: the card's text chunk stays out of the public avatar.
    await expect(extractCardFromPng(bytes)).rejects.toThrow(/no character card/);
    const read = await (await api(`/characters/${character.id}`, bearer(guest.token))).json<Character>();
    expect(read.avatar_url).toBe(character.avatar_url);
  });

  it("is deleted with its character, and with its owner", async () => {
    const guest = await newGuest();
    const keyOf = (c: Character) => (c.avatar_url ?? "").slice(`${ORIGIN}/`.length);
    const first = await (await importPng(guest.token, fixturePng("seraphina"))).json<Character>();
    const second = await (await importPng(guest.token, fixturePng("fluxthecat"))).json<Character>();
    expect(await env.IMAGES.head(keyOf(first))).not.toBeNull();
    expect(await env.IMAGES.head(keyOf(second))).not.toBeNull();

    const removed = await api(`/characters/${first.id}`, bearer(guest.token, { method: "DELETE" }));
    expect(removed.status).toBe(204);
    expect(await env.IMAGES.head(keyOf(first))).toBeNull();
    expect(await env.IMAGES.head(keyOf(second))).not.toBeNull();
    expect((await SELF.fetch(first.avatar_url ?? "")).status).toBe(404);

    const gone = await api("/me", bearer(guest.token, { method: "DELETE" }));
    expect(gone.status).toBe(204);
    expect(await env.IMAGES.head(keyOf(second))).toBeNull();
  });

  it("is never another character's image, whatever avatar_url a character is given", async () => {
    const owner = await newGuest();
    const victim = await (await importPng(owner.token, fixturePng("seraphina"))).json<Character>();
    const attacker = await newGuest();
    const made = await api(
      "/characters",
      json({ name: "Copycat", avatar_url: victim.avatar_url }, { token: attacker.token }),
    );
    expect(made.status).toBe(201);
    const copy = await made.json<Character>();
    expect((await api(`/characters/${copy.id}`, bearer(attacker.token, { method: "DELETE" }))).status).toBe(
      204,
    );
    expect(await env.IMAGES.head((victim.avatar_url ?? "").slice(`${ORIGIN}/`.length))).not.toBeNull();
  });

  it("is not made up for a JSON card", async () => {
    const guest = await newGuest();
    const card = {
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: { name: "Plain Jane", description: "x" },
    };
    const res = await api("/characters/import", json(card, { token: guest.token }));
    expect(res.status).toBe(201);
    expect((await res.json<Character>()).avatar_url).toBeNull();
  });
});

describe("importing the same card twice", () => {
  it("is a 409 conflict naming the caller's existing character, unless ?duplicate=true", async () => {
    const guest = await newGuest();
    const first = await (await importPng(guest.token, fixturePng("seraphina"))).json<Character>();
    const again = await importPng(guest.token, fixturePng("seraphina"));
    expect(again.status).toBe(409);
    const body = (await problem(again)) as unknown as { code: string; existing_id: string };
    expect(body.code).toBe("conflict");
    expect(body.existing_id).toBe(first.id);
    const mine = await (await api("/characters?q=Seraphina&limit=50", bearer(guest.token))).json<{
      items: Character[];
    }>();
    expect(mine.items.filter((c) => c.name === "Seraphina" && c.id !== first.id)).toHaveLength(0);

    const copy = await importPng(guest.token, fixturePng("seraphina"), "?duplicate=true");
    expect(copy.status).toBe(201);
    expect((await copy.json<Character>()).id).not.toBe(first.id);
  });

  it("is no conflict for another user, nor for the same user's other cards", async () => {
    const [a, b] = await Promise.all([newGuest(), newGuest()]);
    expect((await importPng(a.token, fixturePng("seraphina"))).status).toBe(201);
    expect((await importPng(b.token, fixturePng("seraphina"))).status).toBe(201);
    expect((await importPng(a.token, fixturePng("fluxthecat"))).status).toBe(201);
  });

  it("refuses a bad ?duplicate value with a 400 and imports nothing", async () => {
    const guest = await newGuest();
    const bad = await importPng(guest.token, fixturePng("seraphina"), "?duplicate=yes");
    expect(bad.status).toBe(400);
    await problem(bad);
    const mine = await (await api("/characters?q=Seraphina&limit=50", bearer(guest.token))).json<{
      items: { owner_id: string }[];
    }>();
    expect(mine.items.filter((c) => c.owner_id === guest.user.id)).toHaveLength(0);
  });
});

describe("tags in any case", () => {
  it("filter alike: ?tag= matches a tag whatever its spelling on the card or in the query", async () => {
    const guest = await newGuest();
    const created = await api(
      "/characters",
      json({ name: "Mira Quill", tags: ["Deep-Space", "Exploration"] }, { token: guest.token }),
    );
    expect(created.status).toBe(201);
    const { id } = await created.json<Character>();
    for (const tag of ["deep-space", "Deep-Space", "DEEP-SPACE", "exploration"]) {
      const page = await (
        await api(`/characters?tag=${encodeURIComponent(tag)}&limit=100`, bearer(guest.token))
      ).json<{ items: Character[] }>();
      expect(
        page.items.map((c) => c.id),
        tag,
      ).toContain(id);
    }
    const patched = await api(`/characters/${id}`, {
      ...json({ tags: ["Noir-Pulp"] }, { token: guest.token }),
      method: "PATCH",
    });
    expect(patched.status).toBe(200);
    const noir = await (await api("/characters?tag=noir-pulp&limit=100", bearer(guest.token))).json<{
      items: Character[];
    }>();
    expect(noir.items.map((c) => c.id)).toContain(id);
  });
});
