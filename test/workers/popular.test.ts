import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";

const app = createApp();

/** A D1 binding that fails the test if anything queries it. */
function tripwireD1(): { binding: D1Database; queries: () => number } {
  let count = 0;
  const binding = new Proxy({} as D1Database, {
    get() {
      return () => {
        count++;
        throw new Error("the database was queried");
      };
    },
  });
  return { binding, queries: () => count };
}

async function call(path: string, bindings: Env) {
  const ctx = createExecutionContext();
  const res = await app.request(`http://127.0.0.1:8787/api/v1${path}`, {}, bindings, ctx);
  const body = await res.text();
  await waitOnExecutionContext(ctx);
  return { res, body };
}

describe("GET /characters/popular", () => {
  it("orders public characters by chat_count and defaults to 12", async () => {
    const { res, body } = await call("/characters/popular", env);
    expect(res.status).toBe(200);
    const items = (JSON.parse(body) as { items: { chat_count: number; is_public: boolean }[] }).items;
    expect(items).toHaveLength(12);
    expect(items.every((c) => c.is_public)).toBe(true);
    const counts = items.map((c) => c.chat_count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it("serves a warm cache without touching the database", async () => {
    const cold = await call("/characters/popular?limit=5", env);
    expect(cold.res.status).toBe(200);
    expect(cold.res.headers.get("Cache-Control")).toBe("public, max-age=300");

    const tripwire = tripwireD1();
    const warm = await call("/characters/popular?limit=5", { ...env, DB: tripwire.binding });
    expect(warm.res.status).toBe(200);
    expect(warm.body).toBe(cold.body);
    expect(tripwire.queries()).toBe(0);

    // A limit not yet cached does reach the database (the tripwire can fail).
    const miss = await call("/characters/popular?limit=6", { ...env, DB: tripwire.binding });
    expect(miss.res.status).toBe(500);
    expect(tripwire.queries()).toBeGreaterThan(0);
  });

  it("answers a client that takes gzip with the same JSON, gzipped once per isolate copy", async () => {
    const plain = await call("/characters/popular?limit=7", env);
    expect(plain.res.status).toBe(200);
    const ctx = createExecutionContext();
    const res = await app.request(
      "http://127.0.0.1:8787/api/v1/characters/popular?limit=7",
      { headers: { "Accept-Encoding": "gzip, deflate, br" } },
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Encoding")).toBe("gzip");
    expect(res.headers.get("Vary")).toBe("Accept-Encoding");
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const json = await new Response(
      new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")),
    ).text();
    expect(json).toBe(plain.body);
  });

  it.each(["limit=0", "limit=51", "limit=x", "limit=3&limit=4"])(
    "rejects ?%s with 400 naming query.limit",
    async (qs) => {
      const { res, body } = await call(`/characters/popular?${qs}`, env);
      expect(res.status).toBe(400);
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      const problem = JSON.parse(body) as { code: string; detail: string; errors: { path: string }[] };
      expect(problem.code).toBe("invalid_request");
      expect(problem.detail).toBe("The query string is invalid.");
      expect(problem.errors.map((e) => e.path)).toEqual(["query.limit"]);
    },
  );

  it("reads no query, an empty one, ?limit=12 and unknown parameters as the default list", async () => {
    const bodies = new Set<string>();
    for (const qs of ["", "?", "?limit=12", "?other=1"]) {
      const { res, body } = await call(`/characters/popular${qs}`, env);
      expect(res.status, qs).toBe(200);
      bodies.add(body);
    }
    expect(bodies.size).toBe(1);
    const other = await call("/characters/popular?limit=2", env);
    expect((JSON.parse(other.body) as { items: unknown[] }).items).toHaveLength(2);
  });

  it("stays in the OpenAPI document with its query parameter and zone", async () => {
    const { res, body } = await call("/openapi.json", env);
    expect(res.status).toBe(200);
    const doc = JSON.parse(body) as {
      paths: Record<
        string,
        { get?: { parameters?: { name: string; in: string }[]; "x-rate-limit-zone"?: string } }
      >;
    };
    const get = doc.paths["/api/v1/characters/popular"]?.get;
    expect(get?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["query:limit"]);
    expect(get?.["x-rate-limit-zone"]).toBe("api");
  });
});
