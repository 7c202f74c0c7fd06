import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { makeChunk, readPngChunks, writePngChunks } from "../../src/cards/png-chunks";
import { api, bearer, newGuest } from "./support/api";

function fixturePng(name: string): Uint8Array {
  const b64 = env.TEST_CARD_PNGS[name];
  if (!b64) throw new Error(`no fixture ${name}`);
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

/** zlib of `megabytes` MiB of "A", compressed as it streams (the input never exists whole). */
async function deflateOfRepeatedA(megabytes: number): Promise<Uint8Array> {
  const mib = new Uint8Array(1024 * 1024).fill(0x41);
  let left = megabytes;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left-- > 0) controller.enqueue(mib);
      else controller.close();
    },
  });
  return new Uint8Array(
    await new Response(source.pipeThrough(new CompressionStream("deflate"))).arrayBuffer(),
  );
}

/** The fixture's image with `chunk` as its only text chunk. */
function pngWithChunk(type: string, data: Uint8Array): Uint8Array {
  const chunks = readPngChunks(fixturePng("codingsensei")).filter((c) => !c.type.endsWith("Xt"));
  chunks.splice(chunks.length - 1, 0, makeChunk(type, data));
  return writePngChunks(chunks);
}

function importCard(token: string, body: BodyInit, contentType: string) {
  return api("/characters/import", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": contentType },
    body,
  });
}

/** Characters the guest owns (the list holds public ones too). */
async function ownCharacters(token: string, userId: string): Promise<number> {
  const res = await api("/characters?limit=100", bearer(token));
  return ((await res.json()) as { items: { owner_id: string | null }[] }).items.filter(
    (c) => c.owner_id === userId,
  ).length;
}

describe("card import size bounds", () => {
  it("answers 413 for a ~30 KB PNG whose card chunk inflates to 30 MiB, and stores nothing", async () => {
    const { token, user } = await newGuest();
    const bomb = await deflateOfRepeatedA(30);
    const keyword = new TextEncoder().encode("chara\0\0");
    const png = pngWithChunk("zTXt", new Uint8Array([...keyword, ...bomb]));
    // The card chunk is ~30 KB (the rest is the fixture's own picture).
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const res = await importCard(token, png, "image/png");
    expect(res.status).toBe(413);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "payload_too_large" });
    expect(await ownCharacters(token, user.id)).toBe(0);
  });

  it("answers 413 for a JSON card with more than 256 KiB of extensions, and stores nothing", async () => {
    const { token, user } = await newGuest();
    const card = {
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: { name: "Heavy", extensions: { blob: "x".repeat(300 * 1024) } },
    };
    const res = await importCard(token, JSON.stringify(card), "application/json");
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "payload_too_large" });
    expect(await ownCharacters(token, user.id)).toBe(0);
  });

  it("still imports a card with 200 KiB of extensions", async () => {
    const { token, user } = await newGuest();
    const card = {
      spec: "chara_card_v2",
      spec_version: "2.0",
      data: { name: "Roomy", extensions: { blob: "x".repeat(200 * 1024) } },
    };
    expect((await importCard(token, JSON.stringify(card), "application/json")).status).toBe(201);
    expect(await ownCharacters(token, user.id)).toBe(1);
  });
});
