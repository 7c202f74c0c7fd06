import { isZone, ZONES, type Zone } from "./zones";

/**
 * The RPC contract between the Worker and the `RateLimiter` Durable Object. The Worker
 * sends the zone's rule with every call, so the validated Worker config stays the one
 * source of the rates (and tests can run the real object with rates of their own).
 */
export interface ConsumeRequest {
  zone: Zone;
  /** Tokens this request takes, 1..burst. */
  cost: number;
  ratePerS: number;
  burst: number;
  /** Extra tokens the caller's isolate would hold for this client (0..burst; see `take`). */
  lease?: number;
  /** The size of this isolate's previous lease for the client, spent in full within its window (see `take`). */
  settled?: number;
}

export interface ConsumeResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetS: number;
  retryAfterS: number;
  /** Tokens leased to the caller beyond `cost` (counted in `remaining`); absent when none. */
  leased?: number;
}

export type ZoneCounts = Record<Zone, number>;

/** `stats()` of a shard (its clients' counters) or of the global instance (every shard's rejections). */
export interface LimiterStats {
  scope: "shard" | "global";
  allowed: ZoneCounts;
  rejected: ZoneCounts;
  /** Rejections counted here and not yet reported to the global instance. */
  unreported: ZoneCounts;
  /** Shards only: buckets held, and evictions (all, and those of a bucket not yet full again). */
  buckets?: { held: number; evicted: number; evictedBeforeFull: number };
}

/** Generous bounds: far past any sane configuration, well inside exact float arithmetic. */
const MAX_RATE_PER_S = 1e9;
const MAX_BURST = 1e9;
const MAX_BATCH_COUNT = 1e12;
/** Client keys are normalised addresses (`client-ip.ts`): a dotted quad, an IPv6 /64, or `unknown`. */
const MAX_KEY_LENGTH = 64;

/** Validates the client key a shard is asked about; throws a `TypeError`. */
export function parseClientKey(input: unknown): string {
  if (typeof input !== "string" || input.length === 0 || input.length > MAX_KEY_LENGTH) {
    throw new TypeError(`consume: key must be a string of 1..${MAX_KEY_LENGTH} characters`);
  }
  return input;
}

/** Validates a `consume` argument; throws a `TypeError` naming the bad field. */
export function parseConsumeRequest(input: unknown): ConsumeRequest {
  if (typeof input !== "object" || input === null) throw new TypeError("consume: expected an object");
  const { zone, cost, ratePerS, burst, lease = 0, settled = 0 } = input as Record<string, unknown>;
  if (!isZone(zone)) throw new TypeError(`consume: zone must be one of ${ZONES.join(", ")}`);
  if (typeof ratePerS !== "number" || !(ratePerS > 0 && ratePerS <= MAX_RATE_PER_S)) {
    throw new TypeError("consume: ratePerS must be a number in (0, 1e9]");
  }
  if (!isIntegerIn(burst, 1, MAX_BURST)) throw new TypeError("consume: burst must be an integer in [1, 1e9]");
  if (!isIntegerIn(cost, 1, burst)) throw new TypeError("consume: cost must be an integer in [1, burst]");
  if (!isIntegerIn(lease, 0, burst)) throw new TypeError("consume: lease must be an integer in [0, burst]");
  if (!isIntegerIn(settled, 0, burst))
    throw new TypeError("consume: settled must be an integer in [0, burst]");
  return { zone, cost, ratePerS, burst, lease, settled };
}

/** Validates a batch of rejection counts reported to the global instance. */
export function parseZoneCounts(input: unknown): ZoneCounts {
  if (typeof input !== "object" || input === null) throw new TypeError("record: expected an object");
  const counts = input as Record<string, unknown>;
  for (const key of Object.keys(counts)) {
    if (!isZone(key)) throw new TypeError(`record: unknown zone ${JSON.stringify(key.slice(0, 32))}`);
  }
  const parsed = emptyCounts();
  for (const zone of ZONES) {
    const value = counts[zone] ?? 0;
    if (!isIntegerIn(value, 0, MAX_BATCH_COUNT))
      throw new TypeError(`record: ${zone} must be a non-negative integer`);
    parsed[zone] = value;
  }
  return parsed;
}

/** Zero for every zone of `zones.ts` (a zone added there is counted here without an edit). */
export function emptyCounts(): ZoneCounts {
  return Object.fromEntries(ZONES.map((zone) => [zone, 0])) as ZoneCounts;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}
