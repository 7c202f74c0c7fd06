/**
 * A small per-isolate tier in front of the Cache API for public reads: a bounded LRU of whole
 * responses, served fresh for `freshMs`, then served stale for up to `staleMs` while one
 * background reload (through `waitUntil`) refreshes it. A warm hit costs no Cache API lookup
 * and no I/O at all: the isolate answers from memory.
 *
 * It never serves a response past the freshness its producer declared: an entry's life ends at
 * the response's `Date` + `max-age` when both are present (`Cache-Control: public, max-age=300`
 * for popular characters, whose staleness bound API.md states). Only 200 responses are kept.
 * Concurrent misses each load (from the Cache API, usually): a promise shared between two
 * requests' contexts is not safe in Workers; only the background reload is one per key.
 *
 * @example
 * const popular = new IsolateCache({ maxEntries: 64, maxBytes: 4 << 20, freshMs: 5_000, staleMs: 25_000 });
 * return popular.get(`popular:${limit}`, () => loadFromCacheApi(), c.executionCtx);
 */
export interface IsolateCacheOptions {
  maxEntries: number;
  /** Bound on the bodies held, in bytes; a body larger than this is served but not kept. */
  maxBytes: number;
  freshMs: number;
  staleMs: number;
  /** Injected clock (tests). */
  now?: () => number;
}

interface Entry {
  body: ArrayBuffer;
  status: number;
  headers: [string, string][];
  freshUntil: number;
  staleUntil: number;
}

export class IsolateCache {
  private readonly entries = new Map<string, Entry>();
  private readonly reloading = new Set<string>();
  private bytes = 0;
  private readonly now: () => number;
  /** Counters for benchmarks and tests: answers from memory, stale answers, loads. */
  readonly counts = { fresh: 0, stale: 0, loads: 0 };

  constructor(private readonly options: IsolateCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  async get(
    key: string,
    load: () => Promise<Response>,
    ctx: Pick<ExecutionContext, "waitUntil">,
  ): Promise<Response> {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && now < entry.freshUntil) {
      this.touch(key, entry);
      this.counts.fresh += 1;
      return toResponse(entry);
    }
    if (entry && now < entry.staleUntil) {
      this.touch(key, entry);
      this.counts.stale += 1;
      if (!this.reloading.has(key)) {
        this.reloading.add(key);
        // A failed background reload keeps the stale entry until it expires.
        ctx.waitUntil(
          this.load(key, load)
            .catch(() => undefined)
            .finally(() => this.reloading.delete(key)),
        );
      }
      return toResponse(entry);
    }
    if (entry) this.remove(key, entry);
    const loaded = await this.load(key, load);
    return loaded instanceof Response ? loaded : toResponse(loaded);
  }

  get size(): number {
    return this.entries.size;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /** Resolves to the kept entry, or to the response itself when it is not kept (not a 200). */
  private async load(key: string, load: () => Promise<Response>): Promise<Entry | Response> {
    this.counts.loads += 1;
    const response = await load();
    return (await this.keep(key, response)) ?? response;
  }

  private async keep(key: string, response: Response): Promise<Entry | null> {
    if (response.status !== 200) return null;
    const body = await response.arrayBuffer();
    const headers = [...response.headers];
    const now = this.now();
    const limit = declaredExpiry(response.headers) ?? Number.POSITIVE_INFINITY;
    const entry: Entry = {
      body,
      status: response.status,
      headers,
      freshUntil: Math.min(now + this.options.freshMs, limit),
      staleUntil: Math.min(now + this.options.freshMs + this.options.staleMs, limit),
    };
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    if (body.byteLength <= this.options.maxBytes && entry.staleUntil > now) {
      this.entries.set(key, entry);
      this.bytes += body.byteLength;
      this.evictBeyondBounds();
    }
    return entry;
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private remove(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.bytes -= entry.body.byteLength;
  }

  private evictBeyondBounds(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) return;
      this.remove(key, entry);
    }
  }
}

function toResponse(entry: Entry): Response {
  return new Response(entry.body, { status: entry.status, headers: entry.headers });
}

/** `Date` + `max-age` of a response, in ms since the epoch, or null when it declares no bound. */
function declaredExpiry(headers: Headers): number | null {
  const maxAge = /(?:^|,)\s*max-age=(\d+)/.exec(headers.get("Cache-Control") ?? "")?.[1];
  const date = Date.parse(headers.get("Date") ?? "");
  if (maxAge === undefined || Number.isNaN(date)) return null;
  return date + Number(maxAge) * 1000;
}
