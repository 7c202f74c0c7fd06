import { describe, expect, it } from "vitest";
import { CardError, parseCard } from "../../src/cards";

const v2 = (data: Record<string, unknown>) => ({ spec: "chara_card_v2", spec_version: "2.0", data });
const named = (extra: Record<string, unknown>) => v2({ name: "Valid", ...extra });

function cardErrorOf(doc: unknown): CardError {
  try {
    parseCard(doc);
  } catch (error) {
    expect(error).toBeInstanceOf(CardError);
    return error as CardError;
  }
  throw new Error("parseCard accepted a broken card");
}

describe("parseCard rejects", () => {
  it.each([
    ["null", null],
    ["an array", [{ name: "x" }]],
    ["a string", '{"name":"x"}'],
    ["a number", 42],
  ])("a document that is %s, not an object", (_, doc) => {
    const error = cardErrorOf(doc);
    expect(error.message).toBe("card must be a JSON object");
    expect(error.path).toBeUndefined();
  });

  it.each([
    ["an unknown spec", { spec: "chara_card_v9", data: { name: "x" } }, "spec", /chara_card_v2/],
    ["a null spec", { spec: null, data: { name: "x" } }, "spec", /not null/],
    ["a V2 card without data", { spec: "chara_card_v2", spec_version: "2.0" }, "data", /is required/],
    ["data that is an array", v2([] as never), "data", /must be an object/],
    ["a missing data.name", v2({ description: "no name" }), "data.name", /is required/],
    ["an empty data.name", v2({ name: "" }), "data.name", /must not be empty/],
    ["a blank data.name", v2({ name: " \r\n " }), "data.name", /must not be empty/],
    ["a name over 80 chars", v2({ name: "n".repeat(81) }), "data.name", /at most 80/],
    ["a numeric name", v2({ name: 7 }), "data.name", /must be a string/],
    ["tags that are a string", named({ tags: "a, b" }), "data.tags", /array of strings/],
    ["a tag that is not a string", named({ tags: ["ok", 3] }), "data.tags.1", /must be a string/],
    ["extensions that are an array", named({ extensions: [] }), "data.extensions", /must be an object/],
    ["extensions that are null", named({ extensions: null }), "data.extensions", /must be an object/],
    ["a first_mes that is not a string", named({ first_mes: ["hi"] }), "data.first_mes", /must be a string/],
    ["a null mes_example", named({ mes_example: null }), "data.mes_example", /must be a string/],
    [
      "a description over 20 000 chars",
      named({ description: "d".repeat(20_001) }),
      "data.description",
      /at most 20000/,
    ],
    [
      "a system_prompt over 20 000 chars",
      named({ system_prompt: "s".repeat(20_001) }),
      "data.system_prompt",
      /at most 20000/,
    ],
    [
      "a non-string alternate greeting",
      named({ alternate_greetings: [1] }),
      "data.alternate_greetings.0",
      /string/,
    ],
    [
      "a character_book without entries",
      named({ character_book: {} }),
      "data.character_book.entries",
      /required/,
    ],
    ["a V1 card without a name", { description: "d", first_mes: "hi" }, "name", /is required/],
    ["a V1 card with a non-string first_mes", { name: "Old", first_mes: 1 }, "first_mes", /must be a string/],
  ])("%s", (_, doc, path, problem) => {
    const error = cardErrorOf(doc);
    expect(error.path).toBe(path);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(problem);
  });
});

describe("parseCard accepts", () => {
  it("text at the 20 000-char and name at the 80-char limit", () => {
    const doc = v2({ name: "n".repeat(80), description: "d".repeat(20_000) });
    expect(parseCard(doc).fields.description).toHaveLength(20_000);
  });

  it("unknown fields of any type, which stay opaque", () => {
    const doc = { ...named({ future_field: [1, { a: null }] }), tags: "", x: 1 };
    const { extras } = parseCard(doc);
    expect(JSON.stringify(extras)).toContain("future_field");
  });
});
