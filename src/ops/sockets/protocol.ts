/** The RPC contract of the `SessionStats` Durable Object (`durable-objects/session-stats.ts`). */
export interface SocketReport {
  userId: string;
  /** Sockets of this user open right now (not a delta: a lost report heals on the next one). */
  open: number;
  /** When the session counted them (ms since the epoch); an older report never overwrites a newer one. */
  at: number;
}

export interface SocketTotals {
  open: number;
  users: number;
}

/** Users one reconciliation re-checks at most. */
export const STALE_REPORT_LIMIT = 500;

const USER_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Far above `MAX_SOCKETS_PER_USER`: a bound, not a policy. */
const MAX_OPEN = 100_000;

/** Validates a report; throws a `TypeError` naming the bad field. */
export function parseSocketReport(input: unknown): SocketReport {
  if (typeof input !== "object" || input === null) throw new TypeError("report: expected an object");
  const { userId, open, at } = input as Record<string, unknown>;
  if (typeof userId !== "string" || !USER_ID.test(userId)) throw new TypeError("report: userId is not an id");
  if (typeof open !== "number" || !Number.isInteger(open) || open < 0 || open > MAX_OPEN) {
    throw new TypeError("report: open must be a non-negative integer");
  }
  if (typeof at !== "number" || !Number.isFinite(at) || at < 0)
    throw new TypeError("report: at must be a time in ms");
  return { userId, open, at };
}
