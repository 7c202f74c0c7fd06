import { ApiError } from "../errors/api-error";

/** API.md: a PNG card's text chunk inflates to at most this; past it, 413. */
export const MAX_INFLATED_TEXT_BYTES = 2 * 1024 * 1024;
/** API.md: an imported card keeps at most this much of the fields no column holds (`extensions` included). */
export const MAX_CARD_EXTRAS_BYTES = 256 * 1024;

/** The 413 of API.md's "Stores" limits: the card is well-formed, only too big to keep. */
export function cardTooLarge(detail: string): ApiError {
  return new ApiError(413, "payload_too_large", detail);
}

const encoder = new TextEncoder();

/** UTF-8 size of `text`, without encoding it when its length already decides against `limit`. */
export function exceedsUtf8Bytes(text: string, limit: number): boolean {
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return encoder.encode(text).byteLength > limit;
}
