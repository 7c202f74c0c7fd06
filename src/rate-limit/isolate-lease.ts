import type { ConsumeRequest, ConsumeResult } from "./protocol";
import { LEASE_SPEND_MS, wholeSeconds } from "./token-bucket";

/** How long a request waits for a lease already on its way before it asks the shard or answers. */
const WAIT_FOR_LEASE_MS = 1_000;
/**
 * A waiting request looks again after 1 ms, then 2, 4, 8 and 16 ms at most (a timer of its own:
 * see `IsolateLeases`): quick when the shard answers quickly, and no timer storm from many
 * waiters when it is slow, which is when the isolate can least afford one.
 */
const FIRST_POLL_MS = 1;
const MAX_POLL_MS = 16;
/**
 * Clients with a lease held per isolate (about 200 bytes each, 4 MB in all); past it the
 * oldest are forgotten, their tokens unspent: an isolate seeing more distinct clients a
 * minute than this lets their leases lapse early, an under-admission.
 */
const MAX_HELD = 20_000;

/** A decision, and whether a leased token made it here (no call) or the shard did. */
export type LeaseDecision = ConsumeResult & { by: "lease" | "shard" };

/** One client's leased tokens in this isolate, and its lease request in flight, if any. */
interface Held {
  tokens: number;
  /** The size of the lease `tokens` came from, until the shard is told it was spent in full. */
  granted: number;
  /** The tokens must be spent before this (isolate clock): within the shard's reservation. */
  expiresMs: number;
  /** The client's whole tokens as last known (the shard's and these), for `RateLimit-Remaining`. */
  remaining: number;
  limit: number;
  ratePerS: number;
  /** Lease requests sent from this isolate for this client, and the last one answered. */
  asked: number;
  answered: number;
}

function leaseInFlight(entry: Held): boolean {
  return entry.asked > entry.answered;
}

/**
 * Tokens a shard leased to this isolate (`take`'s `leaseWanted`, src/rate-limit/token-bucket.ts),
 * spent here without a Durable Object call. A client that comes back to this isolate within
 * the spend window (60 s: a page load's calls, a scrolling list, a person browsing) costs
 * one call for up to `lease + 1` of its requests.
 *
 * Exactness, the contract of API.md (40 of 100 concurrent requests pass, the 41st is 429):
 * - The shard counts leased tokens as taken, and keeps counting them until the spend
 *   window and a margin have passed (`LEASE_RESERVE_MS`), so tokens spent late are never
 *   minted twice: a lease may under-admit, never over-admit. A lease spent in full within
 *   its window is reported (`settled`) with the next lease request, so the shard stops
 *   counting it and a steady client keeps getting leases.
 * - At most one lease request per client is in flight from an isolate. A request that
 *   finds one on its way waits for it once instead of asking the shard too; a request the
 *   shard refused waits for it before answering 429, because the tokens that lease carries
 *   were taken before the refusal and are the client's to spend. Without that wait an
 *   isolate lets fewer than 40 of 100 through (a refusal settles before the lease arrives).
 * - Waiting is polling on the request's own timer, never awaiting a promise another request
 *   settles: a continuation must run in its own request's context (workerd refuses I/O on
 *   behalf of another request; see bench/RESULTS.md, "Batching limiter calls").
 *
 * Only numbers are kept here, never a stub or a promise, so the table is safe to share
 * between the requests of an isolate.
 */
export class IsolateLeases {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly maxHeld = MAX_HELD,
    private readonly now: () => number = () => Date.now(),
    private readonly sleep: (ms: number) => Promise<unknown> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /**
   * Decides `request` for client `id` (zone, location and key): from a held lease when it
   * covers the cost, otherwise through `ask` (one call to the client's shard), asking for
   * `leaseSize` more tokens when no lease request of this client is in flight here.
   */
  async consume(
    id: string,
    request: ConsumeRequest,
    leaseSize: number,
    ask: (request: ConsumeRequest) => Promise<ConsumeResult>,
  ): Promise<LeaseDecision> {
    let entry = this.held.get(id);
    if (entry) {
      const local = this.spend(entry, request.cost);
      if (local) return local;
      if (leaseInFlight(entry)) {
        await this.settled(entry, entry.asked);
        const late = this.spend(entry, request.cost);
        if (late) return late;
      }
    }
    const wantsLease = leaseSize > 0 && !(entry && leaseInFlight(entry));
    let ticket = 0;
    let settled = 0;
    const sentMs = this.now();
    if (wantsLease) {
      entry ??= this.hold(id, request);
      entry.asked += 1;
      ticket = entry.asked;
      // Only a lease spent in full before its window ended: the shard still counts it then,
      // whereas one that lapsed may have been dropped there already (and another counted since).
      if (entry.tokens === 0 && sentMs < entry.expiresMs) settled = entry.granted;
      entry.granted = 0;
    }
    let result: ConsumeResult;
    try {
      const lease = Math.min(leaseSize, request.burst);
      result = await ask(wantsLease ? { ...request, lease, ...(settled > 0 && { settled }) } : request);
    } finally {
      if (entry && wantsLease) entry.answered = Math.max(entry.answered, ticket);
    }
    const { leased = 0, ...answer } = result;
    const decision: LeaseDecision = { ...answer, by: "shard" };
    if (entry && leased > 0) {
      entry.tokens = leased;
      entry.granted = leased;
      entry.expiresMs = sentMs + LEASE_SPEND_MS;
      entry.remaining = decision.remaining;
      entry.limit = decision.limit;
      this.touch(id, entry);
    }
    if (decision.allowed || !entry) return decision;
    // Refused: a lease this client was granted before the refusal may still be on its way here.
    if (leaseInFlight(entry)) await this.settled(entry, entry.asked);
    return this.spend(entry, request.cost) ?? decision;
  }

  /**
   * The first step of `consume` alone, synchronously: a decision from a lease held here for
   * client `id` when it covers `cost`, else null (and nothing changed) for `consume` to
   * decide. The common case (a client back within the lease's window) then needs no promise
   * and no `ask`.
   */
  spendHeld(id: string, cost: number): LeaseDecision | null {
    const entry = this.held.get(id);
    return entry ? this.spend(entry, cost) : null;
  }

  /** Clients with a lease entry here (tests). */
  get size(): number {
    return this.held.size;
  }

  private spend(entry: Held, cost: number): LeaseDecision | null {
    if (entry.tokens < cost || this.now() >= entry.expiresMs) return null;
    entry.tokens -= cost;
    entry.remaining = Math.max(0, entry.remaining - cost);
    return {
      allowed: true,
      limit: entry.limit,
      remaining: entry.remaining,
      resetS: wholeSeconds((entry.limit - entry.remaining) / entry.ratePerS),
      retryAfterS: 0,
      by: "lease",
    };
  }

  /** Polls (own timer, backing off) until lease request `ticket` is answered, for at most `WAIT_FOR_LEASE_MS`. */
  private async settled(entry: Held, ticket: number): Promise<void> {
    const deadline = this.now() + WAIT_FOR_LEASE_MS;
    let pollMs = FIRST_POLL_MS;
    while (entry.answered < ticket && this.now() < deadline) {
      await this.sleep(pollMs);
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    }
  }

  private hold(id: string, request: ConsumeRequest): Held {
    const entry: Held = {
      tokens: 0,
      granted: 0,
      expiresMs: 0,
      remaining: 0,
      limit: request.burst,
      ratePerS: request.ratePerS,
      asked: 0,
      answered: 0,
    };
    this.touch(id, entry);
    return entry;
  }

  /** (Re)inserts `entry` as the most recent, forgetting the oldest past the bound. */
  private touch(id: string, entry: Held): void {
    this.held.delete(id);
    this.held.set(id, entry);
    while (this.held.size > this.maxHeld) {
      const oldest = this.held.keys().next().value;
      if (oldest === undefined) return;
      // A request still holding the forgotten entry finishes with it; its tokens go unspent.
      this.held.delete(oldest);
    }
  }
}
