import { readFileSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  extractCardFromPng,
  MAX_CARD_EXTRAS_BYTES,
  MAX_INFLATED_TEXT_BYTES,
  parseCard,
} from "../../src/cards";
import { ApiError } from "../../src/errors/api-error";

const HEAVY_TEST_TIMEOUT_MS = 20_000;
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** The fixture's PNG with `extra` chunks in place of its text chunks, before IEND. */
function pngWith(...extra: Buffer[]): Uint8Array {
  const bytes = readFileSync(new URL("../fixtures/cards/codingsensei.png", import.meta.url));
  const kept: Buffer[] = [];
  let offset = 8;
  let iend: Buffer | undefined;
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString("latin1", offset + 4, offset + 8);
    const whole = bytes.subarray(offset, offset + 12 + length);
    if (type === "IEND") iend = whole;
    else if (!type.endsWith("Xt")) kept.push(whole);
    offset += 12 + length;
  }
  return new Uint8Array(Buffer.concat([SIGNATURE, ...kept, ...extra, iend ?? Buffer.alloc(0)]));
}

const zTXt = (keyword: string, text: Buffer) =>
  chunk("zTXt", Buffer.concat([Buffer.from(`${keyword}\0\0`, "latin1"), deflateSync(text, { level: 9 })]));

async function thrownBy(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error("expected a refusal"),
    (error: unknown) => error,
  );
}

const cardJson = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ spec: "chara_card_v2", spec_version: "2.0", data: { name: "Bomb", ...extra } });

describe("PNG text inflation", () => {
  it(
    "refuses a ~30 KB card chunk that inflates to 30 MB with 413, stopping at 2 MiB",
    async () => {
      const bomb = zTXt("chara", Buffer.alloc(30 * 1024 * 1024, 0x41));
      expect(bomb.length).toBeLessThan(64 * 1024);
      const error = await thrownBy(extractCardFromPng(pngWith(bomb)));
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ status: 413, code: "payload_too_large" });
      expect((error as ApiError).detail).toContain(`${MAX_INFLATED_TEXT_BYTES}`);
    },
    HEAVY_TEST_TIMEOUT_MS,
  );

  it("refuses a compressed iTXt card past the cap too", async () => {
    const body = Buffer.concat([
      Buffer.from("chara\0\x01\x00\0\0", "latin1"),
      deflateSync(Buffer.alloc(MAX_INFLATED_TEXT_BYTES + 1, 0x41)),
    ]);
    expect(await thrownBy(extractCardFromPng(pngWith(chunk("iTXt", body))))).toMatchObject({ status: 413 });
  });

  it("reads a compressed card that inflates to exactly 2 MiB", async () => {
    const json = cardJson({ pad: "" });
    const base64Room = MAX_INFLATED_TEXT_BYTES - Buffer.from(json).toString("base64").length;
    // Each 3 bytes of JSON are 4 of base64: pad so the base64 is exactly the cap.
    const pad = "x".repeat(Math.floor((base64Room / 4) * 3));
    const text = Buffer.from(cardJson({ pad })).toString("base64");
    expect(text.length).toBeLessThanOrEqual(MAX_INFLATED_TEXT_BYTES);
    expect(text.length).toBeGreaterThan(MAX_INFLATED_TEXT_BYTES - 4);
    const doc = (await extractCardFromPng(pngWith(zTXt("chara", Buffer.from(text, "latin1"))))) as {
      data: { name: string };
    };
    expect(doc.data.name).toBe("Bomb");
  });
});

describe("unknown card fields", () => {
  const refusal = (doc: unknown) => {
    try {
      parseCard(doc);
    } catch (error) {
      return error;
    }
    return null;
  };

  it("keeps extensions up to 256 KiB", () => {
    const doc = JSON.parse(cardJson({ extensions: { blob: "e".repeat(200 * 1024) } }));
    const { extras } = parseCard(doc);
    expect(JSON.stringify(extras).length).toBeGreaterThan(200 * 1024);
  });

  it("refuses extensions past 256 KiB with 413", () => {
    const doc = JSON.parse(cardJson({ extensions: { blob: "e".repeat(MAX_CARD_EXTRAS_BYTES) } }));
    expect(refusal(doc)).toMatchObject({ status: 413, code: "payload_too_large" });
  });

  it("counts every field without a column, at the top level too, in UTF-8 bytes", () => {
    const top = { ...JSON.parse(cardJson()), creator_blob: "ж".repeat(MAX_CARD_EXTRAS_BYTES / 2) };
    expect(refusal(top)).toMatchObject({ status: 413 });
    const lore = JSON.parse(cardJson({ character_book: { entries: [{ content: "l".repeat(300 * 1024) }] } }));
    expect(refusal(lore)).toMatchObject({ status: 413 });
  });
});
