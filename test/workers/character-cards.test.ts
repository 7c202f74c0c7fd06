import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { embedCardInPng, extractCardFromPng } from "../../src/cards";
import { api, bearer, json, newGuest, problem } from "./support/api";

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

describe("POST /characters/import and GET /characters/:id/card", () => {
  it.each(["seraphina", "codingsensei", "fluxthecat"])(
    "imports the real %s PNG card and exports it with nothing lost",
    async (name) => {
      const guest = await newGuest();
      const png = fixturePng(name);
      const original = (await extractCardFromPng(png)) as { data: { name: string; first_mes: string } };
      const res = await importPng(guest.token, png);
      expect(res.status).toBe(201);
      const character = await res.json<{ id: string; name: string; greeting: string; is_public: boolean }>();
      expect(res.headers.get("Location")).toBe(`/api/v1/characters/${character.id}`);
      expect(character.name).toBe(original.data.name);
      expect(character.greeting).toBe(original.data.first_mes);
      expect(character.is_public).toBe(false);

      const exported = await api(`/characters/${character.id}/card`, bearer(guest.token));
      expect(exported.status).toBe(200);
      expect(await exported.json()).toEqual(original);
    },
  );

  it("imports a JSON card, keeps extensions and unknown fields, and reflects later edits", async () => {
    const guest = await newGuest();
    const card = {
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: {
        name: "Json Jester",
        description: "Jokes about {{user}}.",
        personality: "silly",
        scenario: "",
        first_mes: "Hello {{user}}, I am {{char}}.",
        mes_example: "<START>\n{{user}}: hi\n{{char}}: ho",
        creator_notes: "notes",
        system_prompt: "",
        post_history_instructions: "",
        alternate_greetings: ["Hey"],
        tags: ["comedy"],
        creator: "me",
        character_version: "1",
        extensions: { talkativeness: "0.9", custom: { nested: true } },
        some_future_field: [1, 2],
      },
    };
    const res = await api("/characters/import?is_public=true", json(card, { token: guest.token }));
    expect(res.status).toBe(201);
    const character = await res.json<{
      id: string;
      is_public: boolean;
      example_dialogue: string;
      tags: string[];
    }>();
    expect(character).toMatchObject({
      is_public: true,
      example_dialogue: card.data.mes_example,
      tags: ["comedy"],
    });
    expect(await (await api(`/characters/${character.id}/card`)).json()).toEqual(card);

    await api(
      `/characters/${character.id}`,
      json({ name: "Renamed Jester" }, { token: guest.token, method: "PATCH" }),
    );
    const edited = await (await api(`/characters/${character.id}/card`)).json<typeof card>();
    expect(edited.data.name).toBe("Renamed Jester");
    expect(edited.data.extensions).toEqual(card.data.extensions);
    expect(edited.data.some_future_field).toEqual([1, 2]);
  });

  it("exports a hand-made character as a clean V2 card", async () => {
    const guest = await newGuest();
    const created = await (
      await api("/characters", json({ name: "Handmade", greeting: "Yo" }, { token: guest.token }))
    ).json<{ id: string }>();
    const card = await (await api(`/characters/${created.id}/card`, bearer(guest.token))).json<{
      spec: string;
      data: { name: string; first_mes: string };
    }>();
    expect(card).toMatchObject({
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: { name: "Handmade", first_mes: "Yo" },
    });
  });

  it("round-trips a card re-embedded into a PNG", async () => {
    const guest = await newGuest();
    const card = await extractCardFromPng(fixturePng("codingsensei"));
    const png = embedCardInPng(fixturePng("fluxthecat"), card);
    const res = await importPng(guest.token, png);
    expect(res.status).toBe(201);
    const { id } = await res.json<{ id: string }>();
    expect(await (await api(`/characters/${id}/card`, bearer(guest.token))).json()).toEqual(card);
  });

  it.each([
    ["not a card object", "[1,2]"],
    [
      "a card with no name",
      JSON.stringify({ spec: "chara_card_v2", spec_version: "2.0", data: { description: "x" } }),
    ],
    ["a card with an unknown spec", JSON.stringify({ spec: "something_else", data: { name: "x" } })],
    [
      "a card whose tags are not strings",
      JSON.stringify({ spec: "chara_card_v2", spec_version: "2.0", data: { name: "x", tags: [1] } }),
    ],
    ["malformed JSON", '{"spec":'],
  ])("rejects %s with a 400 naming the problem", async (_label, body) => {
    const guest = await newGuest();
    const res = await api("/characters/import", {
      method: "POST",
      headers: { Authorization: `Bearer ${guest.token}`, "Content-Type": "application/json" },
      body,
    });
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p.code).toBe("invalid_request");
    expect(p.detail.length).toBeGreaterThan(10);
  });

  it("rejects a PNG without a card, a non-PNG, an unknown media type and an oversized body", async () => {
    const guest = await newGuest();
    const noCard = new Uint8Array([
      137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
    ]);
    expect((await importPng(guest.token, noCard)).status).toBe(400);
    expect((await importPng(guest.token, new TextEncoder().encode("GIF89a not a png"))).status).toBe(400);
    const text = await api("/characters/import", {
      method: "POST",
      headers: { Authorization: `Bearer ${guest.token}`, "Content-Type": "text/plain" },
      body: "hi",
    });
    expect(text.status).toBe(415);
    const huge = await importPng(guest.token, new Uint8Array(8 * 1024 * 1024 + 1));
    expect(huge.status).toBe(413);
  });

  it("requires a token and hides another user's private card", async () => {
    expect((await importPng("", fixturePng("seraphina"))).status).toBe(401);
    const owner = await newGuest();
    const other = await newGuest();
    const { id } = await (await importPng(owner.token, fixturePng("seraphina"))).json<{ id: string }>();
    expect((await api(`/characters/${id}/card`, bearer(other.token))).status).toBe(404);
    expect((await api(`/characters/${id}/card`)).status).toBe(404);
  });
});
