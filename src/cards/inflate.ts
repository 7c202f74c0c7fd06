import { ApiError } from "../errors/api-error";
import { CardError } from "./errors";
import { cardTooLarge } from "./limits";

/**
 * Inflates zlib data (what PNG's zTXt and compressed iTXt hold), refusing output past
 * `maxBytes` so that a small upload cannot expand into a memory-exhausting one: the output
 * is counted piece by piece as the stream yields it and the stream is cancelled at the
 * first byte past the cap, so a 30 KB bomb costs `maxBytes` of work, never its 30 MB.
 *
 * @throws {CardError} on corrupt data; {ApiError} 413 on output over `maxBytes`. `what` names the source.
 */
export async function inflateZlib(data: Uint8Array, maxBytes: number, what: string): Promise<Uint8Array> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });
  const reader = source.pipeThrough(new DecompressionStream("deflate")).getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw cardTooLarge(`${what} inflates to more than ${maxBytes} bytes.`);
      }
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof CardError || error instanceof ApiError) {
      throw error;
    }
    throw new CardError(`${what} is not valid zlib data`);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
