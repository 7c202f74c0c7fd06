import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import type { AppEnv } from "../../types";
import { VERSION } from "../../version";

/** The contract document: clients fetch it and it costs nothing to answer: never rate limited. */
const route = defineRoute({
  method: "get",
  path: "/openapi.json",
  summary: "This OpenAPI 3.1 document, generated from the route definitions",
  tags: ["system"],
  zone: null,
  responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "The OpenAPI 3.1 document") },
});

/**
 * `GET /openapi.json` of `app`: every route registered on it, read when the first request
 * asks (by then every route is mounted), then kept for the isolate's life.
 *
 * @example
 * const v1 = routes().route("/", openapi(app));
 */
export function openapi(app: OpenAPIHono<AppEnv>) {
  let cached: { serverUrl: string; doc: Record<string, unknown> } | undefined;
  return routes().openapi(route, (c) => {
    const serverUrl = c.var.services.config.PUBLIC_BASE_URL;
    if (cached?.serverUrl !== serverUrl) {
      const doc = app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title: "Edge art service", version: VERSION },
        servers: [{ url: serverUrl }],
      });
      cached = { serverUrl, doc: doc as unknown as Record<string, unknown> };
    }
    return c.json(cached.doc, 200);
  });
}
