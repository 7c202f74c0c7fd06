import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  buildCard,
  CardError,
  type CharacterCardFields,
  extractCardFromPng,
  parseCard,
} from "../../src/cards";

const FIXTURES = ["seraphina", "codingsensei", "fluxthecat"] as const;
type Card = Record<string, unknown> & { data: Record<string, unknown> };

async function fixtureCard(name: (typeof FIXTURES)[number]): Promise<Card> {
  const png = new Uint8Array(readFileSync(new URL(`../fixtures/cards/${name}.png`, import.meta.url)));
  return (await extractCardFromPng(png)) as Card;
}

/** What a PostgreSQL jsonb column does to a stored object: a JSON copy with keys reordered. */
function throughJsonb(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(throughJsonb);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value).reverse();
  return Object.fromEntries(entries.map(([key, item]) => [key, throughJsonb(item)]));
}

describe.each(FIXTURES)("fixture %s", (fixture) => {
  it("rebuilds the card exactly from its columns and extras", async () => {
    const doc = await fixtureCard(fixture);
    const { fields, extras } = parseCard(doc);
    const rebuilt = buildCard(fields, extras);
    expect(rebuilt).toStrictEqual(doc);
    expect(JSON.stringify(rebuilt)).toBe(JSON.stringify(doc));
  });

  it("rebuilds the card, in its key order, from extras that went through jsonb", async () => {
    const doc = await fixtureCard(fixture);
    const { fields, extras } = parseCard(doc);
    const card = buildCard(fields, throughJsonb(extras) as Record<string, unknown>) as Card;
    expect(card).toStrictEqual(doc);
    expect(Object.keys(card)).toStrictEqual(Object.keys(doc));
    expect(Object.keys(card.data)).toStrictEqual(Object.keys(doc.data));
  });

  it("keeps the extras JSON-serialisable and free of the mapped text", async () => {
    const doc = await fixtureCard(fixture);
    const { extras } = parseCard(doc);
    expect(JSON.parse(JSON.stringify(extras))).toStrictEqual(extras);
    expect(JSON.stringify(extras)).not.toContain(JSON.stringify(doc.data.first_mes));
  });
});

describe("field mapping", () => {
  it("maps Seraphina's data fields to columns, text untouched", async () => {
    const doc = await fixtureCard("seraphina");
    const { fields } = parseCard(doc);
    expect(fields).toStrictEqual({
      name: "Seraphina",
      description: doc.data.description,
      personality: "",
      scenario: "",
      greeting: doc.data.first_mes,
      system_prompt: "",
      example_dialogue: doc.data.mes_example,
      tags: [],
      // The lorebook moves to its own column (issue 13).
      character_book: doc.data.character_book,
    });
    expect(fields.description).toHaveLength(2851);
    expect(fields.description).toContain("\r\n");
    expect(fields.description).toContain("{{char}}");
  });

  it("keeps Seraphina's character_book and extensions for export", async () => {
    const doc = await fixtureCard("seraphina");
    const card = buildCard(parseCard(doc).fields, parseCard(doc).extras) as Card;
    expect(card.data.character_book).toStrictEqual(doc.data.character_book);
    expect((card.data.character_book as { entries: unknown[] }).entries.length).toBeGreaterThan(0);
    expect(card.data.extensions).toStrictEqual({ talkativeness: "0.5", fav: false, world: "Eldoria" });
  });

  it("maps Coding Sensei's tags and Flux's post-history instructions", async () => {
    expect(parseCard(await fixtureCard("codingsensei")).fields.tags).toStrictEqual([
      "coding",
      "utility",
      "assistant",
    ]);
    const flux = await fixtureCard("fluxthecat");
    const { extras } = parseCard(flux);
    expect(JSON.stringify(extras)).toContain(JSON.stringify(flux.data.post_history_instructions));
  });

  it("keeps the card's own tags beyond 10 and over 32 chars while the column holds the usable ones", () => {
    const long = "x".repeat(40);
    const tags = [" Fantasy ", "fantasy", "", long, ...Array.from({ length: 12 }, (_, i) => `tag${i}`)];
    const doc = {
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: { name: "Many Tags", tags },
      tags,
    };
    const { fields, extras } = parseCard(doc);
    expect(fields.tags).toStrictEqual(["Fantasy", ...Array.from({ length: 9 }, (_, i) => `tag${i}`)]);
    expect(buildCard(fields, extras)).toStrictEqual(doc);
  });

  it("defaults missing text fields to empty and adds no fields on export", () => {
    const doc = { spec: "chara_card_v2", spec_version: "2.0", data: { name: "Bare" } };
    const { fields, extras } = parseCard(doc);
    expect(fields).toStrictEqual({
      name: "Bare",
      description: "",
      personality: "",
      scenario: "",
      greeting: "",
      system_prompt: "",
      example_dialogue: "",
      tags: [],
    });
    expect(buildCard(fields, extras)).toStrictEqual(doc);
    const edited = buildCard({ ...fields, greeting: "Hi", tags: ["new"] }, extras) as Card;
    expect(edited.data).toStrictEqual({ name: "Bare", first_mes: "Hi", tags: ["new"] });
  });
});

describe("export after edits", () => {
  it("writes edited columns into data and the V1 top-level mirror, leaving the rest", async () => {
    const doc = await fixtureCard("seraphina");
    const { fields, extras } = parseCard(doc);
    const edited: CharacterCardFields = {
      ...fields,
      name: "Seraphina II",
      greeting: "*She smiles.*\r\nHello, {{user}}.",
      scenario: "A quiet glade.",
      tags: ["fantasy", "healer"],
    };
    const card = buildCard(edited, extras) as Card;
    expect(card.name).toBe("Seraphina II");
    expect(card.data.name).toBe("Seraphina II");
    expect(card.first_mes).toBe(edited.greeting);
    expect(card.data.first_mes).toBe(edited.greeting);
    expect(card.scenario).toBe("A quiet glade.");
    expect(card.data.scenario).toBe("A quiet glade.");
    expect(card.data.tags).toStrictEqual(["fantasy", "healer"]);
    expect(card).not.toHaveProperty("tags");
    expect(card.data.character_book).toStrictEqual(doc.data.character_book);
    expect(card.data.description).toBe(doc.data.description);
    expect(card.description).toBe(doc.description);
    expect(card.creatorcomment).toBe(doc.creatorcomment);
    expect(Object.keys(card)).toStrictEqual(Object.keys(doc));
    expect(Object.keys(card.data)).toStrictEqual(Object.keys(doc.data));
  });

  it("updates a top-level tags mirror, but not a top-level tags value that mirrored nothing", async () => {
    const sensei = await fixtureCard("codingsensei");
    const senseiParts = parseCard(sensei);
    const senseiCard = buildCard({ ...senseiParts.fields, tags: ["code"] }, senseiParts.extras) as Card;
    expect(senseiCard.tags).toStrictEqual(["code"]);
    expect(senseiCard.data.tags).toStrictEqual(["code"]);

    const flux = await fixtureCard("fluxthecat");
    const fluxParts = parseCard(flux);
    const fluxCard = buildCard({ ...fluxParts.fields, tags: ["cat"] }, fluxParts.extras) as Card;
    expect(fluxCard.tags).toBe("");
    expect(fluxCard.data.tags).toStrictEqual(["cat"]);
  });
});

describe("other card versions", () => {
  const v1 = {
    name: "Old Timer",
    description: "An old {{char}}.\r\nVery old.",
    personality: "grumpy",
    scenario: "",
    first_mes: "Hmph.",
    mes_example: "<START>\r\n{{char}}: Hmph.",
    creatorcomment: "from 2022",
    avatar: "none",
    talkativeness: "0.5",
    fav: false,
  };

  it("reads a V1-only card from its top-level fields", () => {
    expect(parseCard(v1).fields).toStrictEqual({
      name: "Old Timer",
      description: v1.description,
      personality: "grumpy",
      scenario: "",
      greeting: "Hmph.",
      system_prompt: "",
      example_dialogue: v1.mes_example,
      tags: [],
    });
  });

  it("exports a V1 card as V2, keeping its top-level fields beside the envelope", () => {
    const { fields, extras } = parseCard(v1);
    const card = buildCard({ ...fields, personality: "mellow" }, extras);
    expect(card).toStrictEqual({
      ...v1,
      personality: "mellow",
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: {
        name: "Old Timer",
        description: v1.description,
        personality: "mellow",
        scenario: "",
        first_mes: "Hmph.",
        mes_example: v1.mes_example,
        creator_notes: "",
        system_prompt: "",
        post_history_instructions: "",
        alternate_greetings: [],
        tags: [],
        creator: "",
        character_version: "",
        extensions: {},
      },
    });
  });

  it("reads a V3 card's data like V2's and exports it as V2 with its V3 fields kept", () => {
    const v3 = {
      spec: "chara_card_v3",
      spec_version: "3.0",
      data: {
        name: "Nova",
        description: "A starship AI.",
        personality: "",
        scenario: "",
        first_mes: "Systems online.",
        mes_example: "",
        creator_notes: "",
        system_prompt: "Stay in character.",
        post_history_instructions: "",
        alternate_greetings: ["Hello, captain."],
        group_only_greetings: [],
        tags: ["sci-fi"],
        creator: "someone",
        character_version: "1",
        extensions: { depth_prompt: { prompt: "", depth: 4, role: "system" } },
        nickname: "N",
        assets: [{ type: "icon", uri: "ccdefault:", name: "main", ext: "png" }],
        creation_date: 1700000000,
      },
    };
    const { fields, extras } = parseCard(v3);
    expect(fields.system_prompt).toBe("Stay in character.");
    expect(fields.greeting).toBe("Systems online.");
    expect(fields.tags).toStrictEqual(["sci-fi"]);
    expect(buildCard(fields, extras)).toStrictEqual({ ...v3, spec: "chara_card_v2", spec_version: "2.0" });
  });
});

describe("cards made by hand", () => {
  it("builds a clean V2 card without extras", () => {
    const fields: CharacterCardFields = {
      name: "Hand Made",
      description: "d",
      personality: "p",
      scenario: "s",
      greeting: "g",
      system_prompt: "sp",
      example_dialogue: "e",
      tags: ["a", "b"],
    };
    const card = buildCard(fields, null);
    expect(card).toStrictEqual({
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: {
        name: "Hand Made",
        description: "d",
        personality: "p",
        scenario: "s",
        first_mes: "g",
        mes_example: "e",
        creator_notes: "",
        system_prompt: "sp",
        post_history_instructions: "",
        alternate_greetings: [],
        tags: ["a", "b"],
        creator: "",
        character_version: "",
        extensions: {},
      },
    });
    expect(parseCard(card).fields).toStrictEqual(fields);
  });

  it("rejects extras that parseCard did not produce", () => {
    const { fields } = parseCard({ name: "X" });
    const attempt = () => buildCard(fields, { world: "Eldoria" });
    expect(attempt).toThrow(CardError);
    expect(attempt).toThrow(expect.objectContaining({ path: "card_extras" }));
  });
});
