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
 * A JSON or text body is gzipped once when kept, and those bytes go to every client whose
 * `Accept-Encoding` takes gzip: through `wrangler dev`'s proxy the bytes, not the Worker,
 * bounded a cached read (bench/RESULTS.md, session 7).
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
  /**
   * Rewrites a kept entry's header list once, when it is kept (e.g. adds the headers the app's
   * middleware would set on every answer: src/http/static-headers.ts).
   */
  finishHeaders?: (headers: [string, string][]) => [string, string][];
  /** Sees every response built from a kept entry (e.g. marks it as carrying those headers). */
  onServe?: (response: Response) => Response;
}

interface Entry {
  body: ArrayBuffer;
  /** The body gzipped once when kept (JSON and text of at least `MIN_GZIP_BYTES`), else null. */
  gzip: ArrayBuffer | null;
  status: number;
  /**
   * Built once when kept: the runtime copies a `Headers` into a new response in one call,
   * where a list costs a conversion per name and value per response.
   */
  headers: Headers;
  /** `headers` for the gzipped body: `Content-Encoding: gzip`, no `Content-Length`. */
  gzipHeaders: Headers;
  freshUntil: number;
  staleUntil: number;
}

export class IsolateCache {
  private readonly entries = new Map<string, Entry>();
  private readonly reloading = new Set<string>();
  private bytes = 0;
  /** The key last inserted into `entries` (its most recent), while it is still there. */
  private newest: string | undefined;
  private readonly now: () => number;
  /** Counters for benchmarks and tests: answers from memory, stale answers, loads. */
  readonly counts = { fresh: 0, stale: 0, loads: 0 };

  constructor(private readonly options: IsolateCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The response for `key`; `acceptEncoding` is the request's `Accept-Encoding`: a client that
   * takes gzip gets the bytes gzipped when the entry was kept (`Vary: Accept-Encoding` either way).
   * A kept entry answers at once (a Response, no promise); a miss waits for `load`.
   */
  get(
    key: string,
    load: () => Promise<Response>,
    ctx: Pick<ExecutionContext, "waitUntil">,
    acceptEncoding?: string | null,
  ): Response | Promise<Response> {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && now < entry.freshUntil) {
      this.touch(key, entry);
      this.counts.fresh += 1;
      return this.toResponse(entry, acceptEncoding);
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
      return this.toResponse(entry, acceptEncoding);
    }
    if (entry) this.remove(key, entry);
    return this.loadResponse(key, load, acceptEncoding);
  }

  private async loadResponse(
    key: string,
    load: () => Promise<Response>,
    acceptEncoding: string | null | undefined,
  ): Promise<Response> {
    const loaded = await this.load(key, load);
    return loaded instanceof Response ? loaded : this.toResponse(loaded, acceptEncoding);
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
    const gzip = worthGzipping(response.headers, body) ? await gzipped(body) : null;
    let headers = [...response.headers];
    if (gzip) headers.push(["Vary", "Accept-Encoding"]);
    if (this.options.finishHeaders) headers = this.options.finishHeaders(headers);
    const now = this.now();
    const limit = declaredExpiry(response.headers) ?? Number.POSITIVE_INFINITY;
    const entry: Entry = {
      body,
      gzip,
      status: response.status,
      headers: new Headers(headers),
      gzipHeaders: new Headers([
        ...headers.filter(([name]) => name.toLowerCase() !== "content-length"),
        ["Content-Encoding", "gzip"],
      ]),
      freshUntil: Math.min(now + this.options.freshMs, limit),
      staleUntil: Math.min(now + this.options.freshMs + this.options.staleMs, limit),
    };
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    if (heldBytes(entry) <= this.options.maxBytes && entry.staleUntil > now) {
      this.entries.set(key, entry);
      this.newest = key;
      this.bytes += heldBytes(entry);
      this.evictBeyondBounds();
    }
    return entry;
  }

  private toResponse(entry: Entry, acceptEncoding: string | null | undefined): Response {
    const response =
      entry.gzip && acceptsGzip(acceptEncoding)
        ? // "manual": the bytes are gzip already; the runtime sends them as they are.
          new Response(entry.gzip, { status: entry.status, headers: entry.gzipHeaders, encodeBody: "manual" })
        : new Response(entry.body, { status: entry.status, headers: entry.headers });
    return this.options.onServe ? this.options.onServe(response) : response;
  }

  /**
   * Makes `key` the most recently used. Nothing to do when it already is (one hot key, nearly
   * every hit): a delete and a set per hit make the Map rebuild its table every few calls.
   */
  private touch(key: string, entry: Entry): void {
    if (this.newest === key) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.newest = key;
  }

  private remove(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    if (this.newest === key) this.newest = undefined;
    this.entries.delete(key);
    this.bytes -= heldBytes(entry);
  }

  private evictBeyondBounds(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) return;
      this.remove(key, entry);
    }
  }
}

function heldBytes(entry: Entry): number {
  return entry.body.byteLength + (entry.gzip?.byteLength ?? 0);
}

/** Below this a body gains too little from gzip to be worth a second copy. */
export const MIN_GZIP_BYTES = 1024;

/** JSON or text, not encoded already, at least `MIN_GZIP_BYTES`. */
function worthGzipping(headers: Headers, body: ArrayBuffer): boolean {
  const type = headers.get("Content-Type") ?? "";
  return (
    body.byteLength >= MIN_GZIP_BYTES &&
    !headers.has("Content-Encoding") &&
    (type.startsWith("application/json") || type.startsWith("text/"))
  );
}

async function gzipped(body: ArrayBuffer): Promise<ArrayBuffer> {
  return new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
}

/** The last `Accept-Encoding` value asked about and its answer: clients send a handful of values. */
let lastAsked: { value: string; gzip: boolean } = { value: "", gzip: false };

/** Whether an `Accept-Encoding` value accepts gzip (`gzip` or `x-gzip` without `q=0`). */
export function acceptsGzip(acceptEncoding: string | null | undefined): boolean {
  if (!acceptEncoding) return false;
  if (acceptEncoding === lastAsked.value) return lastAsked.gzip;
  const gzip = parseAcceptsGzip(acceptEncoding);
  lastAsked = { value: acceptEncoding, gzip };
  return gzip;
}

function parseAcceptsGzip(acceptEncoding: string): boolean {
  for (const part of acceptEncoding.toLowerCase().split(",")) {
    const [coding, ...params] = part.split(";").map((p) => p.trim());
    if (coding !== "gzip" && coding !== "x-gzip") continue;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** `Date` + `max-age` of a response, in ms since the epoch, or null when it declares no bound. */
function declaredExpiry(headers: Headers): number | null {
  const maxAge = /(?:^|,)\s*max-age=(\d+)/.exec(headers.get("Cache-Control") ?? "")?.[1];
  const date = Date.parse(headers.get("Date") ?? "");
  if (maxAge === undefined || Number.isNaN(date)) return null;
  return date + Number(maxAge) * 1000;
}
