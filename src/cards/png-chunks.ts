import { crc32 } from "./crc32";
import { CardError } from "./errors";

/** One PNG chunk. `crc` is the stored value for a chunk read, the computed one for a chunk made. */
export interface PngChunk {
  readonly type: string;
  readonly data: Uint8Array;
  readonly crc: number;
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** Length, type and CRC around each chunk's data. */
const CHUNK_OVERHEAD = 12;
const MAX_CHUNK_LENGTH = 0x7fffffff;
const CHUNK_TYPE = /^[A-Za-z]{4}$/;

function typeBytes(type: string): Uint8Array {
  return Uint8Array.from(type, (char) => char.charCodeAt(0));
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= SIGNATURE.length && SIGNATURE.every((byte, i) => bytes[i] === byte);
}

/** @example makeChunk("IEND", new Uint8Array()).crc // 0xae426082 */
export function makeChunk(type: string, data: Uint8Array): PngChunk {
  return { type, data, crc: crc32([typeBytes(type), data]) };
}

export function hasValidCrc(chunk: PngChunk): boolean {
  return crc32([typeBytes(chunk.type), chunk.data]) === chunk.crc;
}

/**
 * Splits a PNG into its chunks, IHDR through IEND. Chunk data are views into `bytes`, not
 * copies. CRCs are not checked here (see `hasValidCrc`): checking megabytes of IDAT would
 * spend Worker CPU on pixels nobody decodes.
 *
 * @throws {CardError} when `bytes` are not a well-formed PNG.
 */
export function readPngChunks(bytes: Uint8Array): PngChunk[] {
  if (!isPng(bytes)) {
    throw new CardError("not a PNG image (bad signature)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: PngChunk[] = [];
  let offset = SIGNATURE.length;
  while (offset + CHUNK_OVERHEAD <= bytes.length) {
    const length = view.getUint32(offset);
    const dataStart = offset + 8;
    const dataEnd = dataStart + length;
    if (length > MAX_CHUNK_LENGTH || dataEnd + 4 > bytes.length) {
      throw new CardError("PNG is truncated: a chunk runs past the end of the file");
    }
    const type = String.fromCharCode(...bytes.subarray(offset + 4, dataStart));
    if (!CHUNK_TYPE.test(type)) {
      throw new CardError(`PNG is malformed: invalid chunk type at byte ${offset + 4}`);
    }
    if (chunks.length === 0 && type !== "IHDR") {
      throw new CardError("PNG is malformed: the first chunk is not IHDR");
    }
    chunks.push({ type, data: bytes.subarray(dataStart, dataEnd), crc: view.getUint32(dataEnd) });
    if (type === "IEND") {
      return chunks;
    }
    offset = dataEnd + 4;
  }
  throw new CardError("PNG is truncated: no IEND chunk");
}

/** Serialises chunks behind the PNG signature, writing each chunk's own `crc`. */
export function writePngChunks(chunks: readonly PngChunk[]): Uint8Array {
  const size = chunks.reduce((sum, chunk) => sum + CHUNK_OVERHEAD + chunk.data.length, 8);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(SIGNATURE, 0);
  let offset = SIGNATURE.length;
  for (const chunk of chunks) {
    view.setUint32(offset, chunk.data.length);
    out.set(typeBytes(chunk.type), offset + 4);
    out.set(chunk.data, offset + 8);
    view.setUint32(offset + 8 + chunk.data.length, chunk.crc);
    offset += CHUNK_OVERHEAD + chunk.data.length;
  }
  return out;
}
