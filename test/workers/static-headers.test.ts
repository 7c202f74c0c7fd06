import { SELF } from "cloudflare:test";
import { Hono } from "hono";
import { secureHeaders as honoSecureHeaders } from "hono/secure-headers";
import { describe, expect, it } from "vitest";
import {
  API_SECURE_HEADERS,
  API_STATIC_HEADERS,
  SECURE_HEADERS,
  withApiStaticHeaders,
} from "../../src/http/static-headers";
import { api, ORIGIN } from "./support/api";

/** Every header of a response as name -> value (lower-case names; duplicates would show as "a, b"). */
const headersOf = (res: Response) => Object.fromEntries(res.headers);

describe("the static headers", () => {
  it("are exactly what hono/secure-headers set with the app's old configuration", async () => {
    const hono = new Hono();
    hono.use("*", honoSecureHeaders({ crossOriginResourcePolicy: "cross-origin" }));
    hono.get("/", (c) => c.text("x"));
    const expected = headersOf(await hono.request("/"));
    delete expected["content-type"];
    const ours = Object.fromEntries(SECURE_HEADERS.map(([n, v]) => [n.toLowerCase(), v]));
    expect(ours).toEqual(expected);
  });

  it("on /api are the three of them that apply to a response no browser renders as a page", () => {
    expect(API_SECURE_HEADERS.map(([name]) => name)).toEqual([
      "Strict-Transport-Security",
      "X-Content-Type-Options",
      "X-Frame-Options",
    ]);
    for (const [name, value] of API_SECURE_HEADERS)
      expect(SECURE_HEADERS.find(([n]) => n === name)?.[1], name).toBe(value);
  });

  it("replace a response's own values of the same names and drop X-Powered-By and the page-only ones", () => {
    const list = withApiStaticHeaders([
      ["Content-Type", "application/json"],
      ["x-frame-options", "DENY"],
      ["X-Powered-By", "me"],
      // A copy kept before /api answers carried fewer of them (the Cache API outlives a deploy).
      ["Referrer-Policy", "no-referrer"],
    ]);
    const headers = new Headers(list);
    expect(headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
    expect(headers.get("Content-Type")).toBe("application/json");
    expect(headers.has("X-Powered-By")).toBe(false);
    expect(headers.has("Referrer-Policy")).toBe(false);
    expect(headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect([...headers].length).toBe(1 + API_STATIC_HEADERS.length);
  });

  it("are the same, once each, on a popular read from the database, from memory, and on any other /api answer", async () => {
    const want = Object.fromEntries(API_STATIC_HEADERS.map(([n, v]) => [n.toLowerCase(), v]));
    const pageOnly = SECURE_HEADERS.map(([n]) => n.toLowerCase()).filter((n) => !(n in want));
    expect(pageOnly).toHaveLength(8);
    // limit=9: a key no other test of this file reads, so the first call loads it.
    for (const [path, init] of [
      ["/characters/popular?limit=9", {}],
      ["/characters/popular?limit=9", {}],
      ["/characters/popular?limit=9", { headers: { "Accept-Encoding": "gzip" } }],
      ["/health", {}],
      [
        "/health",
        {
          method: "OPTIONS",
          headers: { Origin: "https://a.example", "Access-Control-Request-Method": "GET" },
        },
      ],
      ["/nope", {}],
    ] as const) {
      const res = await api(path, init);
      await res.arrayBuffer();
      const got = headersOf(res);
      for (const [name, value] of Object.entries(want)) expect(got[name], `${path} ${name}`).toBe(value);
      for (const name of pageOnly) expect(got[name], `${path} ${name}`).toBeUndefined();
      expect(got["x-request-id"], path).toMatch(/^[0-9a-f-]{36}$/);
      if (path.startsWith("/characters")) {
        expect(got["ratelimit-limit"], path).toMatch(/^\d+$/);
        expect(got["ratelimit-remaining"], path).toMatch(/^\d+$/);
        expect(got["ratelimit-reset"], path).toMatch(/^\d+$/);
      }
    }
  });

  it("are hono's whole set outside /api: the app's page, a 404 there, an image", async () => {
    const want = Object.fromEntries(SECURE_HEADERS.map(([n, v]) => [n.toLowerCase(), v]));
    for (const path of ["/", "/characters", "/images/nope.png"]) {
      const res = await SELF.fetch(`${ORIGIN}${path}`);
      await res.arrayBuffer();
      const got = headersOf(res);
      for (const [name, value] of Object.entries(want)) expect(got[name], `${path} ${name}`).toBe(value);
      expect(got["access-control-allow-origin"], path).toBeUndefined();
    }
  });
});
