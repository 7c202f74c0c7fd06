import { z } from "zod";

type Method = "get" | "post" | "patch" | "delete" | "put";

export interface RouteDoc {
  method: Method;
  /** Hono path, e.g. `/api/v1/characters/:id`. */
  path: string;
  summary: string;
  tag: string;
  auth?: "user" | "admin" | "optional";
  body?: z.ZodType;
  bodyContentType?: string;
  query?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

const routes: RouteDoc[] = [];

/**
 * Records a route for `/openapi.json`, from the same zod schemas that validate it.
 *
 * @example
 * documentRoute({ method: "get", path: "/api/v1/me", summary: "Who am I", tag: "identity", auth: "user",
 *   responses: { 200: { description: "The caller", schema: MeResponse } } });
 */
export function documentRoute(doc: RouteDoc): void {
  routes.push(doc);
}

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  return z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" });
}

const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** The OpenAPI 3.1 document of every documented route. */
export function openApiDocument(version: string, serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");
    const pathParams = [...route.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const queryParams = route.query
      ? Object.entries(
          (jsonSchema(route.query, "input") as { properties?: Record<string, unknown> }).properties ?? {},
        ).map(([name, schema]) => ({ name, in: "query", required: false, schema }))
      : [];
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(route.responses)) {
      responses[status] = {
        description: res.description,
        ...(res.schema
          ? {
              content: {
                [res.contentType ?? "application/json"]: { schema: jsonSchema(res.schema, "output") },
              },
            }
          : {}),
      };
    }
    responses.default = {
      description: "Problem details (RFC 9457)",
      content: { "application/problem+json": { schema: jsonSchema(Problem, "output") } },
    };
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      tags: [route.tag],
      ...(route.auth === "user" || route.auth === "admin" ? { security: [{ bearer: [] }] } : {}),
      parameters: [...pathParams, ...queryParams],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: {
                [route.bodyContentType ?? "application/json"]: { schema: jsonSchema(route.body, "input") },
              },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Edge art service", version },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
    paths,
  };
}
