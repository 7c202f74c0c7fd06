import { CardError } from "./errors";
import { inflateZlib } from "./inflate";
import { MAX_INFLATED_TEXT_BYTES } from "./limits";
import { makeChunk, type PngChunk } from "./png-chunks";

const TEXT_CHUNK_TYPES = new Set(["tEXt", "zTXt", "iTXt"]);

/** Keyword of a tEXt, zTXt or iTXt chunk (Latin-1, 1..79 bytes); null for any other chunk. */
export function textChunkKeyword(chunk: PngChunk): string | null {
  if (!TEXT_CHUNK_TYPES.has(chunk.type)) {
    return null;
  }
  const end = chunk.data.indexOf(0);
  return end > 0 && end < 80 ? String.fromCharCode(...chunk.data.subarray(0, end)) : null;
}

/**
 * The text bytes of a tEXt, zTXt or iTXt chunk, inflated when compressed: Latin-1 for tEXt
 * and zTXt, UTF-8 for iTXt (identical for the ASCII of a base64 card). Bytes rather than a
 * string, because a card's text is megabytes of base64 that is decoded straight from them.
 *
 * @throws {CardError} on a malformed chunk, an unknown compression method or corrupt data;
 * {ApiError} 413 past `MAX_INFLATED_TEXT_BYTES`.
 */
export async function textChunkBytes(chunk: PngChunk): Promise<Uint8Array> {
  const keyword = textChunkKeyword(chunk);
  if (keyword === null) {
    throw new CardError(`PNG ${chunk.type} chunk is not a well-formed text chunk`);
  }
  const what = `PNG ${chunk.type} chunk "${keyword}"`;
  const body = chunk.data.subarray(keyword.length + 1);
  if (chunk.type === "tEXt") {
    return body;
  }
  if (chunk.type === "zTXt") {
    assertDeflate(body[0], what);
    return inflateZlib(body.subarray(1), MAX_INFLATED_TEXT_BYTES, what);
  }
  const [compressed, method] = body;
  let text = body.subarray(2);
  // Skip the NUL-terminated language tag and translated keyword.
  for (let field = 0; field < 2; field++) {
    const end = text.indexOf(0);
    if (compressed === undefined || end < 0) {
      throw new CardError(`${what} is truncated`);
    }
    text = text.subarray(end + 1);
  }
  if (compressed === 0) {
    return text;
  }
  assertDeflate(method, what);
  return inflateZlib(text, MAX_INFLATED_TEXT_BYTES, what);
}

function assertDeflate(method: number | undefined, what: string): void {
  if (method !== 0) {
    throw new CardError(`${what} uses an unknown compression method`);
  }
}

/**
 * An uncompressed tEXt chunk. `keyword` is ASCII; `text` must be Latin-1 bytes, which the
 * ASCII of base64 is.
 *
 * @example makeTextChunk("chara", encodeBase64(new TextEncoder().encode(json)))
 */
export function makeTextChunk(keyword: string, text: Uint8Array): PngChunk {
  const data = new Uint8Array(keyword.length + 1 + text.length);
  for (let i = 0; i < keyword.length; i++) {
    data[i] = keyword.charCodeAt(i);
  }
  data.set(text, keyword.length + 1);
  return makeChunk("tEXt", data);
}
