import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { api, json, newGuest, ORIGIN, problem } from "./support/api";

describe("the request path", () => {
  it("echoes a well-formed X-Request-Id and generates one otherwise", async () => {
    const echoed = await api("/health", { headers: { "X-Request-Id": "req-abc.123" } });
    expect(echoed.headers.get("X-Request-Id")).toBe("req-abc.123");
    const generated = await api("/health", { headers: { "X-Request-Id": "bad id with spaces" } });
    expect(generated.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    const errorResponse = await api("/nope");
    expect(errorResponse.headers.get("X-Request-Id")).toBeTruthy();
  });

  it("names a request by its CF-Ray when the client sent no usable X-Request-Id", async () => {
    const ray = "8f1c2d3e4a5b6c7d-FRA";
    const byRay = await api("/health", { headers: { "CF-Ray": ray } });
    expect(byRay.headers.get("X-Request-Id")).toBe(ray);
    const badGiven = await api("/nope", { headers: { "CF-Ray": ray, "X-Request-Id": "bad id" } });
    expect(badGiven.headers.get("X-Request-Id")).toBe(ray);
    expect(((await badGiven.json()) as { request_id?: string }).request_id).toBe(ray);
    const given = await api("/health", { headers: { "CF-Ray": ray, "X-Request-Id": "req-1" } });
    expect(given.headers.get("X-Request-Id")).toBe("req-1");
    const badRay = await api("/health", { headers: { "CF-Ray": "not a ray id" } });
    expect(badRay.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers CORS preflights and exposes the headers clients need", async () => {
    const res = await api("/characters", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("idempotency-key");
    expect(res.headers.get("Access-Control-Allow-Methods")).toBe("GET,POST,PATCH,DELETE,OPTIONS");
    expect(res.headers.get("Access-Control-Max-Age")).toBe("86400");
    expect(res.headers.get("Vary")).toBe("Access-Control-Request-Headers");
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
    const get = await api("/health", { headers: { Origin: "https://app.example" } });
    expect(get.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
  });

  it("puts the CORS, request id and secure headers on error answers and cached reads alike", async () => {
    for (const path of ["/nope", "/me", "/characters/popular", "/characters/popular"]) {
      const res = await api(path, { headers: { Origin: "https://app.example" } });
      expect(res.headers.get("Access-Control-Allow-Origin"), path).toBe("*");
      expect(res.headers.get("Access-Control-Expose-Headers"), path).toContain("RateLimit-Remaining");
      expect(res.headers.get("X-Request-Id"), path).toBeTruthy();
      expect(res.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
    }
  });

  it("gives CORS to /api and what is under /api/ only, as Hono's /api/* matched; secure headers and an id to all", async () => {
    for (const [path, cors] of [
      ["/api", true],
      ["/api/", true],
      ["/api/v1/nope", true],
      ["/apix", false],
      ["/API/v1/health", false],
      ["/images/none.png", false],
    ] as const) {
      const res = await SELF.fetch(`${ORIGIN}${path}`, { headers: { Origin: "https://app.example" } });
      await res.arrayBuffer();
      expect(res.headers.get("Access-Control-Allow-Origin"), path).toBe(cors ? "*" : null);
      expect(res.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
      expect(res.headers.get("X-Request-Id"), path).toBeTruthy();
      expect(res.headers.has("X-Powered-By"), path).toBe(false);
    }
    // A preflight outside /api is no preflight: it goes on to the routes (404 here, no CORS).
    const outside = await SELF.fetch(`${ORIGIN}/apix`, { method: "OPTIONS" });
    expect(outside.status).toBe(404);
    expect(outside.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const inside = await SELF.fetch(`${ORIGIN}/api`, { method: "OPTIONS" });
    expect(inside.status).toBe(204);
    expect(inside.headers.get("Access-Control-Max-Age")).toBe("86400");
  });

  it("sets secure headers", async () => {
    const res = await api("/health");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Strict-Transport-Security")).toBeTruthy();
    expect(res.headers.get("X-Frame-Options")).toBeTruthy();
  });

  it("renders unknown routes as a 404 problem", async () => {
    const res = await api("/does-not-exist");
    expect(res.status).toBe(404);
    expect(await problem(res)).toMatchObject({
      status: 404,
      code: "not_found",
      type: "about:blank",
      title: "Not Found",
    });
  });

  it("turns wrong types, oversized and malformed bodies into 4xx, never 500", async () => {
    const guest = await newGuest();
    const cases: Array<[RequestInit, number]> = [
      [json({ name: 1 }, { token: guest.token }), 400],
      [json([1, 2, 3], { token: guest.token }), 400],
      [json(null, { token: guest.token }), 400],
      [
        {
          method: "POST",
          headers: { Authorization: `Bearer ${guest.token}`, "Content-Type": "application/json" },
          body: '{"name":',
        },
        400,
      ],
      [
        {
          method: "POST",
          headers: { Authorization: `Bearer ${guest.token}`, "Content-Type": "application/json" },
          body: "x".repeat(400 * 1024), // over POST /characters' 384 KiB (a full lorebook fits)
        },
        413,
      ],
    ];
    for (const [init, status] of cases) {
      const res = await api("/characters", init);
      expect(res.status).toBe(status);
      await problem(res);
    }
  });

  it("never leaks internals or secrets in a 500", async () => {
    const app = createApp();
    const ctx = createExecutionContext();
    const broken = { ...env, JWT_SECRET: "short" } as Env;
    const res = await app.request("http://127.0.0.1:8787/api/v1/me", {}, broken, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(500);
    const body = await problem(res);
    expect(body.code).toBe("internal");
    expect(body.detail).toContain("JWT_SECRET");
    expect(JSON.stringify(body)).not.toContain("short");
  });
});

describe("GET /health", () => {
  it("is ok with a working database", async () => {
    const res = await api("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "ok",
      version: expect.any(String),
      checks: { db: "ok" },
    });
  });

  it("is 503 naming the failing check when the database is down", async () => {
    const app = createApp();
    const ctx = createExecutionContext();
    const downDb = {
      prepare: () => {
        throw new Error("D1 is down");
      },
    } as unknown as D1Database;
    const res = await app.request("http://127.0.0.1:8787/api/v1/health", {}, { ...env, DB: downDb }, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "degraded", checks: { db: "error" } });
  });
});

describe("GET /openapi.json", () => {
  it("describes the routes from the validating schemas", async () => {
    const res = await api("/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<{
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: {
              content: Record<string, { schema: { properties: Record<string, { maxLength?: number }> } }>;
            };
          }
        >
      >;
    }>();
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/api/v1/health",
      "/api/v1/auth/guest",
      "/api/v1/me",
      "/api/v1/characters",
      "/api/v1/characters/{id}",
      "/api/v1/characters/popular",
      "/api/v1/characters/import",
      "/api/v1/characters/{id}/card",
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
    const create = doc.paths["/api/v1/characters"]?.post?.requestBody?.content["application/json"]?.schema;
    expect(create?.properties.name?.maxLength).toBe(80);
    expect(create?.properties.description?.maxLength).toBe(2000);
  });
});
