import { readFileSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { CardError, embedCardInPng, extractCardFromPng, parseCard } from "../../src/cards";

/** Megabyte-sized cases stay well inside this even on a busy CI runner. */
const HEAVY_TEST_TIMEOUT_MS = 20_000;
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface RawChunk {
  type: string;
  data: Buffer;
}

function fixturePng(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../fixtures/cards/${name}.png`, import.meta.url)));
}

/** An independent PNG reader: checks the signature, every CRC and that IEND ends the file. */
function chunksOf(png: Uint8Array): RawChunk[] {
  const bytes = Buffer.from(png);
  expect(bytes.subarray(0, 8).equals(SIGNATURE)).toBe(true);
  const chunks: RawChunk[] = [];
  let offset = 8;
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const typeAndData = bytes.subarray(offset + 4, offset + 8 + length);
    expect(bytes.readUInt32BE(offset + 8 + length), "chunk CRC").toBe(crc32(typeAndData));
    chunks.push({ type: typeAndData.toString("latin1", 0, 4), data: typeAndData.subarray(4) });
    offset += 12 + length;
  }
  expect(offset).toBe(bytes.length);
  expect(chunks[0]?.type).toBe("IHDR");
  expect(chunks.at(-1)?.type).toBe("IEND");
  return chunks;
}

function pngOf(chunks: RawChunk[]): Uint8Array {
  const parts = chunks.map(({ type, data }) => {
    const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typeAndData));
    return Buffer.concat([length, typeAndData, crc]);
  });
  return new Uint8Array(Buffer.concat([SIGNATURE, ...parts]));
}

const keywordOf = (chunk: RawChunk) => chunk.data.toString("latin1", 0, chunk.data.indexOf(0));
const withoutText = (png: Uint8Array) => chunksOf(png).filter((chunk) => !chunk.type.endsWith("Xt"));

/** The fixture's image with the given chunks in place of its text chunks, before IEND. */
function pngWith(...extra: RawChunk[]): Uint8Array {
  const chunks = withoutText(fixturePng("codingsensei"));
  return pngOf([...chunks.slice(0, -1), ...extra, ...chunks.slice(-1)]);
}

const base64Json = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64");
const tEXt = (keyword: string, text: string): RawChunk => ({
  type: "tEXt",
  data: Buffer.from(`${keyword}\0${text}`, "latin1"),
});
const card = { spec: "chara_card_v2", spec_version: "2.0", data: { name: "Ünïcødé 猫 🐱", tags: ["x"] } };

async function extractError(png: Uint8Array): Promise<CardError> {
  const error = await extractCardFromPng(png).then(
    () => new Error("extractCardFromPng accepted a broken PNG"),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CardError);
  return error as CardError;
}

describe("extractCardFromPng", () => {
  it.each(["seraphina", "codingsensei", "fluxthecat"])("reads the chara chunk of %s", async (name) => {
    const chunk = chunksOf(fixturePng(name)).find((candidate) => keywordOf(candidate) === "chara");
    const expected = JSON.parse(
      Buffer.from(chunk?.data.subarray(6).toString("latin1") ?? "", "base64").toString(),
    );
    const doc = await extractCardFromPng(fixturePng(name));
    expect(doc).toStrictEqual(expected);
    expect(parseCard(doc).fields.name.length).toBeGreaterThan(0);
  });

  it("prefers chara over ccv3 and reads ccv3 when it is the only card", async () => {
    const v3 = { spec: "chara_card_v3", spec_version: "3.0", data: { name: "V3 only" } };
    expect(
      await extractCardFromPng(pngWith(tEXt("ccv3", base64Json(v3)), tEXt("chara", base64Json(card)))),
    ).toStrictEqual(card);
    expect(await extractCardFromPng(pngWith(tEXt("ccv3", base64Json(v3))))).toStrictEqual(v3);
  });

  it("reads uncompressed and compressed iTXt and zTXt chunks", async () => {
    const text = base64Json(card);
    const iTXt = (compressed: boolean): RawChunk => ({
      type: "iTXt",
      data: Buffer.concat([
        Buffer.from(`chara\0${compressed ? "\x01" : "\0"}\0en\0Chara\0`, "latin1"),
        compressed ? deflateSync(text) : Buffer.from(text, "utf8"),
      ]),
    });
    const zTXt: RawChunk = {
      type: "zTXt",
      data: Buffer.concat([Buffer.from("chara\0\0", "latin1"), deflateSync(text)]),
    };
    expect(await extractCardFromPng(pngWith(iTXt(false)))).toStrictEqual(card);
    expect(await extractCardFromPng(pngWith(iTXt(true)))).toStrictEqual(card);
    expect(await extractCardFromPng(pngWith(zTXt))).toStrictEqual(card);
  });

  it.each([
    ["bytes that are not a PNG", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), /not a PNG/],
    ["an empty body", new Uint8Array(), /not a PNG/],
    ["a PNG cut short", fixturePng("seraphina").subarray(0, 300_000), /truncated/],
    ["a PNG without a card chunk", pngOf(withoutText(fixturePng("seraphina"))), /no character card/],
    ["a PNG with only other text chunks", pngWith(tEXt("Software", "paint")), /no character card/],
    ["a chara chunk that is not base64", pngWith(tEXt("chara", "{not base64!}")), /not valid base64/],
    ["a chara chunk that is not JSON", pngWith(tEXt("chara", btoa("not json"))), /not valid JSON/],
    [
      "a zTXt chara chunk that is not zlib data",
      pngWith({ type: "zTXt", data: Buffer.from("chara\0\0garbage", "latin1") }),
      /not valid zlib data/,
    ],
  ])("rejects %s", async (_, png, problem) => {
    expect((await extractError(png)).message).toMatch(problem);
  });

  it("rejects a chara chunk whose CRC does not match", async () => {
    const png = pngWith(tEXt("chara", base64Json(card)));
    const iend = png.length - 12;
    png[iend - 1] = (png[iend - 1] ?? 0) ^ 0xff;
    expect((await extractError(png)).message).toMatch(/CRC/);
  });
});

describe("embedCardInPng", () => {
  it("writes a card that extracts to the same JSON, in a structurally valid PNG", async () => {
    const original = fixturePng("seraphina");
    const doc = (await extractCardFromPng(original)) as typeof card;
    const edited = { ...doc, data: { ...doc.data, name: "Ünïcødé 猫 🐱" } };
    const png = embedCardInPng(original, edited);
    expect(await extractCardFromPng(png)).toStrictEqual(edited);
    const chunks = chunksOf(png);
    expect(chunks.filter((chunk) => chunk.type.endsWith("Xt")).map(keywordOf)).toStrictEqual(["chara"]);
    const image = (list: RawChunk[]) =>
      Buffer.concat(
        list.filter((chunk) => !chunk.type.endsWith("Xt")).flatMap((c) => [Buffer.from(c.type), c.data]),
      );
    expect(image(chunks).equals(image(chunksOf(original)))).toBe(true);
  });

  it("replaces both chara and ccv3 chunks, keeping other text chunks", async () => {
    const png = embedCardInPng(
      pngWith(
        tEXt("ccv3", base64Json({ old: 3 })),
        tEXt("Software", "paint"),
        tEXt("chara", base64Json({ old: 2 })),
      ),
      card,
    );
    expect(
      chunksOf(png)
        .filter((chunk) => chunk.type === "tEXt")
        .map(keywordOf),
    ).toStrictEqual(["Software", "chara"]);
    expect(await extractCardFromPng(png)).toStrictEqual(card);
  });

  it(
    "embeds into a PNG without a card, and carries a multi-megabyte card",
    async () => {
      const big = {
        ...card,
        data: { ...card.data, character_book: { entries: [{ content: "é".repeat(1_500_000) }] } },
      };
      const png = embedCardInPng(pngOf(withoutText(fixturePng("fluxthecat"))), big);
      chunksOf(png);
      expect(await extractCardFromPng(png)).toStrictEqual(big);
    },
    HEAVY_TEST_TIMEOUT_MS,
  );

  it("rejects bytes that are not a PNG", () => {
    expect(() => embedCardInPng(new TextEncoder().encode("GIF89a"), card)).toThrow(CardError);
  });
});
