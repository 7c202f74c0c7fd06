import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { appWith, uniqueIp } from "./rate-limit.support";

interface Operation {
  parameters?: { name: string; in: string }[];
  security?: unknown[];
  "x-rate-limit-zone"?: string;
}
type Document = { paths: Record<string, Record<string, Operation>> };

/** Distinct bursts, so a response's `RateLimit-Limit` names the zone it was counted in. */
const RATES = { RATE_API_BURST: "41", RATE_API_PER_S: "20", RATE_STRICT_BURST: "11", RATE_STRICT_PER_S: "1" };
const fetchApp = appWith(RATES);

async function openApiDocument(): Promise<Document> {
  const res = await fetchApp("/api/v1/openapi.json");
  expect(res.status).toBe(200);
  return res.json<Document>();
}

/** Every route Hono will answer, as `METHOD /path/{param}`, middleware-only entries left out. */
function mountedRoutes(): Map<string, string[]> {
  const mounted = new Map<string, string[]>();
  for (const route of createApp().routes) {
    if (route.method === "ALL") continue;
    const params = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    mounted.set(`${route.method} ${path}`, params.sort());
  }
  return mounted;
}

function documentedRoutes(doc: Document): Map<string, string[]> {
  const documented = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const params = (operation.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
      documented.set(`${method.toUpperCase()} ${path}`, params.sort());
    }
  }
  return documented;
}

describe("the OpenAPI document", () => {
  it("documents every mounted route with its method, path and path parameters", async () => {
    const mounted = mountedRoutes();
    const documented = documentedRoutes(await openApiDocument());
    expect(mounted.size).toBeGreaterThanOrEqual(27);
    for (const [route, params] of mounted) {
      expect(documented.has(route), `${route} is mounted but not in /api/v1/openapi.json`).toBe(true);
      expect(documented.get(route), `${route}'s path parameters`).toEqual(params);
    }
  });

  it("documents no route that is not mounted", async () => {
    const mounted = mountedRoutes();
    for (const route of documentedRoutes(await openApiDocument()).keys()) {
      expect(mounted.has(route), `${route} is documented but not mounted`).toBe(true);
    }
  });

  it("documents the RunPod webhook with the parameter names it is routed with", async () => {
    const doc = await openApiDocument();
    expect(doc.paths).toHaveProperty(["/api/v1/webhooks/runpod/{job_id}/{token}"]);
  });

  it.each([
    ["post", "/api/v1/generate", "strict"],
    ["post", "/api/v1/auth/guest", "strict,identity"],
    ["post", "/api/v1/auth/passkeys/login", "strict,identity"],
    ["post", "/api/v1/auth/passkeys/register", "strict,identity"],
    ["post", "/api/v1/auth/refresh", "api"],
    ["post", "/api/v1/chats", "strict"],
    ["post", "/api/v1/characters", "strict"],
    ["post", "/api/v1/characters/import", "strict"],
    ["get", "/api/v1/characters", "api"],
    ["patch", "/api/v1/characters/{id}", "api"],
    ["post", "/api/v1/generations/{id}/cancel", "api"],
    ["get", "/api/v1/ws", "api"],
    ["get", "/api/v1/health", undefined],
    ["get", "/api/v1/openapi.json", undefined],
    ["post", "/api/v1/webhooks/runpod/{job_id}/{token}", undefined],
    ["get", "/images/{token}/{file}", undefined],
  ])("documents %s %s in zone %s (API.md)", async (method, path, zone) => {
    const doc = await openApiDocument();
    expect(doc.paths[path]?.[method]).toBeDefined();
    expect(doc.paths[path]?.[method]?.["x-rate-limit-zone"]).toBe(zone);
  });

  it("puts every /api/v1 route except health, openapi.json and webhooks in a zone", async () => {
    const doc = await openApiDocument();
    for (const [path, operations] of Object.entries(doc.paths)) {
      const unlimited =
        !path.startsWith("/api/v1/") || /^\/api\/v1\/(health|openapi\.json|webhooks\/)/.test(path);
      for (const [method, operation] of Object.entries(operations)) {
        const zone = operation["x-rate-limit-zone"];
        if (unlimited) expect(zone, `${method} ${path}`).toBeUndefined();
        else expect(["api", "strict", "identity", "strict,identity"], `${method} ${path}`).toContain(zone);
      }
    }
  });

  it("counts a request in the zone its route documents", async () => {
    const doc = await openApiDocument();
    const limitOf = { api: RATES.RATE_API_BURST, strict: RATES.RATE_STRICT_BURST };
    // auth/guest is in `strict` and `identity`; the tighter (strict here) names the headers.
    const strictZone = doc.paths["/api/v1/auth/guest"]?.post?.["x-rate-limit-zone"]?.split(
      ",",
    )[0] as keyof typeof limitOf;
    const apiZone = doc.paths["/api/v1/characters"]?.get?.["x-rate-limit-zone"] as keyof typeof limitOf;

    const signIn = await fetchApp("/api/v1/auth/guest", { method: "POST", ip: uniqueIp() });
    expect(signIn.status).toBe(201);
    expect(signIn.headers.get("RateLimit-Limit")).toBe(limitOf[strictZone]);

    const list = await fetchApp("/api/v1/characters", { ip: uniqueIp() });
    expect(list.status).toBe(200);
    expect(list.headers.get("RateLimit-Limit")).toBe(limitOf[apiZone]);
  });

  it("marks routes behind a bearer token with its security scheme", async () => {
    const doc = await openApiDocument();
    expect(doc.paths["/api/v1/me"]?.get?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/api/v1/characters"]?.get?.security).toBeUndefined();
  });
});
