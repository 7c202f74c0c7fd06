import { describe, expect, it } from "vitest";
import { acceptsGzip, IsolateCache, MIN_GZIP_BYTES } from "../../src/cache/isolate-cache";

/** A clock the test moves, a loader that counts its calls, and a `waitUntil` the test can await. */
function setup(options: Partial<ConstructorParameters<typeof IsolateCache>[0]> = {}) {
  let now = 1_700_000_000_000;
  const cache = new IsolateCache({
    maxEntries: 8,
    maxBytes: 1024,
    freshMs: 5_000,
    staleMs: 25_000,
    now: () => now,
    ...options,
  });
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };
  let version = 0;
  const calls = { count: 0 };
  const loader =
    (init: { status?: number; headers?: Record<string, string>; body?: string } = {}) =>
    async () => {
      calls.count += 1;
      version += 1;
      return new Response(init.body ?? `v${version}`, { status: init.status ?? 200, headers: init.headers });
    };
  return {
    cache,
    ctx,
    calls,
    loader,
    advance: (ms: number) => {
      now += ms;
    },
    nowMs: () => now,
    settle: () => Promise.all(pending.splice(0)),
    read: async (key: string, load: () => Promise<Response>) => (await cache.get(key, load, ctx)).text(),
  };
}

describe("IsolateCache", () => {
  it("answers from memory while fresh: one load for many reads", async () => {
    const t = setup();
    const load = t.loader();
    expect(await t.read("k", load)).toBe("v1");
    t.advance(4_999);
    for (let i = 0; i < 10; i++) expect(await t.read("k", load)).toBe("v1");
    expect(t.calls.count).toBe(1);
    expect(t.cache.counts).toEqual({ fresh: 10, stale: 0, loads: 1 });
  });

  it("serves stale while one background reload runs, then the reloaded copy", async () => {
    const t = setup();
    const load = t.loader();
    await t.read("k", load);
    t.advance(6_000);
    expect(await Promise.all([t.read("k", load), t.read("k", load)])).toEqual(["v1", "v1"]);
    await t.settle();
    expect(t.calls.count).toBe(2); // one reload for two stale reads
    expect(await t.read("k", load)).toBe("v2");
  });

  it("loads in the request once past the stale window", async () => {
    const t = setup();
    const load = t.loader();
    await t.read("k", load);
    t.advance(30_000);
    expect(await t.read("k", load)).toBe("v2");
    expect(t.cache.counts.stale).toBe(0);
  });

  it("keeps a stale entry when its background reload fails", async () => {
    const t = setup();
    await t.read("k", t.loader());
    t.advance(6_000);
    const failing = async () => {
      throw new Error("cache down");
    };
    expect(await t.read("k", failing)).toBe("v1");
    await t.settle();
    expect(await t.read("k", t.loader())).toBe("v1");
  });

  it("never serves past the producer's Date + max-age", async () => {
    const t = setup();
    // Produced 290 s ago with max-age 300: 10 s of life left, less than fresh + stale (30 s).
    const headers = {
      "Cache-Control": "public, max-age=300",
      Date: new Date(t.nowMs() - 290_000).toUTCString(),
    };
    await t.read("k", t.loader({ headers }));
    t.advance(9_000); // stale, still within max-age
    expect(await t.read("k", t.loader({ headers }))).toBe("v1");
    await t.settle();
    t.advance(2_000); // the reload's copy is just as old; past its max-age now
    expect(await t.read("k", t.loader())).toBe("v3");
  });

  it("passes errors through and keeps only 200 responses", async () => {
    const t = setup();
    const res = await t.cache.get("k", t.loader({ status: 500, body: "boom" }), t.ctx);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("boom");
    expect(t.cache.size).toBe(0);
    await expect(
      t.cache.get(
        "k",
        async () => {
          throw new Error("db down");
        },
        t.ctx,
      ),
    ).rejects.toThrow("db down");
  });

  it("keeps status and headers", async () => {
    const t = setup();
    await t.read("k", t.loader({ headers: { "Content-Type": "application/json", "X-A": "1" } }));
    const hit = await t.cache.get("k", t.loader(), t.ctx);
    expect(hit.status).toBe(200);
    expect(hit.headers.get("Content-Type")).toBe("application/json");
    expect(hit.headers.get("X-A")).toBe("1");
  });

  it("holds at most maxEntries, least recently used out first", async () => {
    const t = setup({ maxEntries: 2 });
    await t.read("a", t.loader());
    await t.read("b", t.loader());
    await t.read("a", t.loader()); // a is now the most recent
    await t.read("c", t.loader());
    expect(t.cache.size).toBe(2);
    const before = t.calls.count;
    await t.read("a", t.loader());
    expect(t.calls.count).toBe(before);
    await t.read("b", t.loader());
    expect(t.calls.count).toBe(before + 1);
  });

  it("keeps the recency order when the newest is hit again, expires, or is replaced", async () => {
    const t = setup({ maxEntries: 2 });
    await t.read("a", t.loader());
    await t.read("b", t.loader());
    await t.read("b", t.loader()); // already the most recent: order a, b
    await t.read("a", t.loader()); // order b, a
    await t.read("a", t.loader());
    await t.read("c", t.loader()); // b goes
    let before = t.calls.count;
    await t.read("a", t.loader());
    await t.read("c", t.loader());
    expect(t.calls.count).toBe(before);
    await t.read("b", t.loader()); // a goes (c was read last)
    expect(t.calls.count).toBe(before + 1);
    // The newest (b) expires and is reloaded: it is the newest again, then touched by c.
    t.advance(31_000);
    await t.read("b", t.loader());
    await t.read("c", t.loader()); // c expired as well: reloaded, order b, c
    await t.read("b", t.loader()); // order c, b
    await t.read("d", t.loader()); // c goes
    before = t.calls.count;
    await t.read("b", t.loader());
    await t.read("d", t.loader());
    expect(t.calls.count).toBe(before);
    await t.read("c", t.loader());
    expect(t.calls.count).toBe(before + 1);
  });

  it("answers a kept entry without a promise, a miss with one", async () => {
    const t = setup();
    const miss = t.cache.get("k", t.loader(), t.ctx);
    expect(miss).toBeInstanceOf(Promise);
    await miss;
    const hit = t.cache.get("k", t.loader(), t.ctx);
    expect(hit).toBeInstanceOf(Response);
    expect(await (hit as Response).text()).toBe("v1");
  });

  it("holds at most maxBytes, and serves an oversized body without keeping it", async () => {
    const t = setup({ maxBytes: 100 });
    await t.read("a", t.loader({ body: "x".repeat(60) }));
    await t.read("b", t.loader({ body: "y".repeat(60) }));
    expect(t.cache.heldBytes).toBe(60);
    expect(t.cache.size).toBe(1);
    expect(await t.read("big", t.loader({ body: "z".repeat(200) }))).toBe("z".repeat(200));
    expect(t.cache.heldBytes).toBeLessThanOrEqual(100);
  });

  it("gzips a JSON body once when kept, and serves those bytes to a client that takes gzip", async () => {
    const t = setup({ maxBytes: 64 * 1024 });
    const json = JSON.stringify({
      items: Array.from({ length: 40 }, (_, i) => ({ id: i, text: "a fairly long description ".repeat(3) })),
    });
    const load = t.loader({
      body: json,
      headers: { "Content-Type": "application/json", "Content-Length": String(json.length) },
    });
    await t.cache.get("k", load, t.ctx); // the miss: kept now

    const zipped = await t.cache.get("k", load, t.ctx, "gzip, deflate, br");
    expect(zipped.headers.get("Content-Encoding")).toBe("gzip");
    expect(zipped.headers.get("Vary")).toBe("Accept-Encoding");
    expect(zipped.headers.get("Content-Length")).toBeNull();
    const bytes = new Uint8Array(await zipped.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]); // the gzip magic
    expect(bytes.length).toBeLessThan(json.length / 4);
    const unzipped = await new Response(
      new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")),
    ).text();
    expect(unzipped).toBe(json);

    for (const accept of [undefined, null, "", "br, deflate", "gzip;q=0"]) {
      const plain = await t.cache.get("k", load, t.ctx, accept);
      expect(plain.headers.get("Content-Encoding")).toBeNull();
      expect(plain.headers.get("Vary")).toBe("Accept-Encoding");
      expect(await plain.text()).toBe(json);
    }
    expect(t.calls.count).toBe(1); // one load, one gzip, many answers
    expect(t.cache.heldBytes).toBe(json.length + bytes.length);
  });

  it("keeps small bodies and non-text types as they are", async () => {
    const t = setup({ maxBytes: 64 * 1024 });
    const small = "x".repeat(MIN_GZIP_BYTES - 1);
    const png = "p".repeat(4 * MIN_GZIP_BYTES);
    const cases = [
      { key: "small", body: small, type: "application/json" },
      { key: "png", body: png, type: "image/png" },
    ];
    for (const c of cases) {
      const load = t.loader({ body: c.body, headers: { "Content-Type": c.type } });
      await t.cache.get(c.key, load, t.ctx);
      const res = await t.cache.get(c.key, load, t.ctx, "gzip");
      expect(res.headers.get("Content-Encoding")).toBeNull();
      expect(res.headers.get("Vary")).toBeNull();
      expect(await res.text()).toBe(c.body);
    }
  });

  it("answers a repeated Accept-Encoding like a new one (the remembered answer is the value's own)", () => {
    for (const [header, expected] of [
      ["gzip", true],
      ["gzip", true],
      ["gzip;q=0", false],
      ["gzip;q=0", false],
      ["gzip", true],
    ] as const) {
      expect(acceptsGzip(header), header).toBe(expected);
    }
  });

  it("builds a kept entry's headers once with finishHeaders, and shows every answer built from it to onServe", async () => {
    const served: Response[] = [];
    let finished = 0;
    const t = setup({
      maxBytes: 64 * MIN_GZIP_BYTES,
      finishHeaders: (headers) => {
        finished += 1;
        return [...headers.filter(([n]) => n !== "x-own"), ["X-Added", "yes"]];
      },
      onServe: (res) => {
        served.push(res);
        return res;
      },
    });
    const body = JSON.stringify({ items: "x".repeat(2 * MIN_GZIP_BYTES) });
    const load = t.loader({ body, headers: { "Content-Type": "application/json", "X-Own": "1" } });
    const answers = [
      await t.cache.get("k", load, t.ctx),
      await t.cache.get("k", load, t.ctx, "gzip"),
      await t.cache.get("k", load, t.ctx),
    ];
    expect(finished).toBe(1);
    expect(served).toEqual(answers);
    for (const res of answers) {
      expect(res.headers.get("X-Added")).toBe("yes");
      expect(res.headers.has("X-Own")).toBe(false);
      expect(res.headers.get("Vary")).toBe("Accept-Encoding");
    }
    expect(answers[1]?.headers.get("Content-Encoding")).toBe("gzip");
    // The answers do not share one Headers: changing one leaves the next untouched.
    answers[0]?.headers.set("X-Added", "changed");
    expect((await t.cache.get("k", load, t.ctx)).headers.get("X-Added")).toBe("yes");
  });

  it.each([
    ["gzip", true],
    ["GZIP", true],
    ["x-gzip", true],
    ["br, gzip;q=0.5", true],
    ["gzip; q=1.0, br", true],
    ["gzip;q=0", false],
    ["gzip;q=0.0", false],
    ["deflate, br", false],
    ["gzipped", false],
    ["", false],
  ])("acceptsGzip(%j) is %s", (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
