/**
 * A small per-isolate memory of lookups that found nothing, each forgotten after `ttlMs`.
 * Bounded: past `maxEntries` the oldest entry goes first (Map keeps insertion order).
 *
 * @example
 * const misses = new RecentMisses(10_000, 1000);
 * if (misses.has(key, Date.now())) return notFound();
 */
export class RecentMisses {
  readonly #until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  has(key: string, nowMs: number): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until > nowMs) return true;
    this.#until.delete(key);
    return false;
  }

  add(key: string, nowMs: number): void {
    this.#until.delete(key);
    this.#until.set(key, nowMs + this.ttlMs);
    if (this.#until.size > this.maxEntries) {
      const oldest = this.#until.keys().next().value;
      if (oldest !== undefined) this.#until.delete(oldest);
    }
  }
}
