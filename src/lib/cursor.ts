import { ApiError } from "../errors/api-error";
import { base64url, fromBase64urlText } from "./crypto";

/** A keyset position: the sort value of the last row returned and its id. */
export interface Cursor {
  sort: string | number;
  id: string;
}

/** Opaque to clients: base64url of a small JSON tuple. */
export function encodeCursor(cursor: Cursor): string {
  return base64url(JSON.stringify([cursor.sort, cursor.id]));
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined) return undefined;
  try {
    const json = fromBase64urlText(raw);
    const value: unknown = json === null ? null : JSON.parse(json);
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      (typeof value[0] === "string" || typeof value[0] === "number") &&
      typeof value[1] === "string"
    ) {
      return { sort: value[0], id: value[1] };
    }
  } catch {
    // fall through to the 400 below
  }
  throw ApiError.invalid("The cursor is not one this API issued.", [
    { path: "cursor", message: "invalid cursor" },
  ]);
}

/** Shapes a page: `limit + 1` rows were fetched to learn whether another page exists. */
export function page<T>(
  rows: T[],
  limit: number,
  position: (row: T) => Cursor,
): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(position(last)) : null };
}
