import { decodeBase64, encodeBase64 } from "./base64";
import { CardError } from "./errors";
import { hasValidCrc, type PngChunk, readPngChunks, writePngChunks } from "./png-chunks";
import { makeTextChunk, textChunkBytes, textChunkKeyword } from "./png-text";

/**
 * Text-chunk keywords that carry a card, in order of preference. This API speaks V2, so
 * `chara` wins when a V3 card also carries `ccv3`; a PNG with only `ccv3` is still read.
 */
const CARD_KEYWORDS = ["chara", "ccv3"] as const;

function cardKeyword(chunk: PngChunk): string | undefined {
  const keyword = textChunkKeyword(chunk)?.toLowerCase();
  return CARD_KEYWORDS.find((candidate) => candidate === keyword);
}

/**
 * Extracts the card JSON from a PNG card: base64 of UTF-8 JSON in a `chara` (V2) or `ccv3`
 * (V3) tEXt, iTXt or zTXt chunk, as SillyTavern and other chat frontends write it.
 * The result is still unvalidated JSON: hand it to `parseCard`.
 *
 * @throws {CardError} when the bytes are not a PNG, carry no card chunk, or the chunk is
 * corrupt, not base64, or not JSON.
 * @example
 * const { fields, extras } = parseCard(await extractCardFromPng(bytes));
 */
export async function extractCardFromPng(bytes: Uint8Array): Promise<unknown> {
  const chunks = readPngChunks(bytes);
  for (const keyword of CARD_KEYWORDS) {
    const chunk = chunks.find((candidate) => cardKeyword(candidate) === keyword);
    if (chunk) {
      return decodeCardChunk(chunk, keyword);
    }
  }
  throw new CardError("PNG carries no character card (no chara or ccv3 text chunk)");
}

async function decodeCardChunk(chunk: PngChunk, keyword: string): Promise<unknown> {
  // Only the card chunk's CRC is checked; see readPngChunks for why not all of them.
  if (!hasValidCrc(chunk)) {
    throw new CardError(`PNG ${keyword} chunk is corrupt (CRC mismatch)`);
  }
  const json = decodeBase64(await textChunkBytes(chunk));
  if (json === null) {
    throw new CardError(`PNG ${keyword} chunk is not valid base64`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(json));
  } catch (error) {
    const reason = error instanceof Error ? `: ${error.message}` : "";
    throw new CardError(`PNG ${keyword} chunk is not valid JSON${reason}`);
  }
}

/**
 * Writes `card` into `png` as a `chara` tEXt chunk just before IEND. Existing `chara` and
 * `ccv3` chunks are dropped, so that no reader picks up a stale card; every other chunk is
 * copied byte for byte.
 *
 * @throws {CardError} when `png` is not a well-formed PNG.
 * @example
 * const cardPng = embedCardInPng(avatarPng, buildCard(fields, extras));
 */
export function embedCardInPng(png: Uint8Array, card: unknown): Uint8Array {
  const chunks = readPngChunks(png).filter((chunk) => cardKeyword(chunk) === undefined);
  const json = JSON.stringify(card);
  if (json === undefined) {
    throw new TypeError("card is not JSON-serialisable");
  }
  const cardChunk = makeTextChunk("chara", encodeBase64(new TextEncoder().encode(json)));
  // readPngChunks guarantees IEND is last.
  chunks.splice(chunks.length - 1, 0, cardChunk);
  return writePngChunks(chunks);
}

const TEXT_CHUNKS = new Set(["tEXt", "iTXt", "zTXt"]);

/**
 * The picture of a PNG card without its text chunks: the card (and any other metadata) stays
 * out of the portrait that is served as the character's avatar.
 *
 * @throws {CardError} when the bytes are not a PNG.
 */
export function stripTextChunks(png: Uint8Array): Uint8Array {
  return writePngChunks(readPngChunks(png).filter((chunk) => !TEXT_CHUNKS.has(chunk.type)));
}
