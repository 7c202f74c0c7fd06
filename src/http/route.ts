import { createRoute, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { ApiError } from "../errors/api-error";
import { optionalUser, requireSocketUser, requireUser } from "../middleware/auth";
import { requireAdmin } from "../ops/admin/auth";
import { rateLimit } from "../rate-limit/middleware";
import type { Zone } from "../rate-limit/zones";
import type { AppEnv } from "../types";
import { jsonBodyGate, validationHook } from "./validate";

/** JSON bodies are small; routes that take more (card import, RunPod webhook) say so. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Who may call a route: `user` (bearer token), `optional` (anonymous, or a valid token),
 * `admin` (ADMIN_TOKEN), `socket` (a user token in `Authorization` or `?token=`, for
 * WebSocket upgrades, which browsers cannot give headers).
 */
export type Auth = "user" | "optional" | "admin" | "socket";

/** What a route says about itself beyond createRoute's own fields. */
export interface RoutePolicy {
  /**
   * The limiter's zone (API.md, "Rate limits"), several zones (each takes a token; the
   * refusing or tighter one's headers are sent), or `null` for a route that is never limited.
   */
  zone: Zone | readonly Zone[] | null;
  auth?: Auth;
  /** Largest accepted body in bytes (default 64 KiB). */
  bodyLimit?: number;
  /** Checks that must run before the body is read (after rate limit and auth). */
  guards?: MiddlewareHandler<AppEnv>[];
}

type RouteSpec = Omit<RouteConfig, "middleware" | "security"> & RoutePolicy;

const AUTH: Record<Auth, MiddlewareHandler<AppEnv>> = {
  user: requireUser,
  optional: optionalUser,
  admin: requireAdmin,
  socket: requireSocketUser,
};

const Problem = {
  type: "object",
  required: ["type", "title", "status", "detail", "code"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string" },
    errors: {
      type: "array",
      items: {
        type: "object",
        required: ["path", "message"],
        properties: { path: { type: "string" }, message: { type: "string" } },
      },
    },
    request_id: { type: "string" },
  },
} as const;

/**
 * hono/body-limit for requests with a body; one without (every GET of a read) goes straight
 * on, without the async frame and promise hono's middleware costs it just to find no body.
 */
function limitBody(maxSize: number): MiddlewareHandler<AppEnv> {
  const limit = honoBodyLimit({
    maxSize,
    onError: () => {
      throw ApiError.tooLarge(maxSize);
    },
  });
  return (c, next) => (c.req.raw.body ? limit(c, next) : next());
}

/** A zod schema validates the JSON body (not a plain JSON Schema, which only documents it). */
function jsonBodyOf(spec: RouteSpec): { optional: boolean } | null {
  const body = spec.request?.body;
  const media = body?.content["application/json"];
  const schema = media && "schema" in media ? media.schema : undefined;
  if (!schema || typeof (schema as { safeParse?: unknown }).safeParse !== "function") return null;
  return { optional: body?.required !== true };
}

/**
 * A route, declared once: method, path, request schemas and responses as createRoute takes
 * them, plus its rate-limit zone, auth and body limit. Validation and the OpenAPI document
 * come from the same object; the policy becomes createRoute's `middleware` (in this order:
 * rate limit, auth, guards, body limit, JSON body checks), `security` and the
 * `x-rate-limit-zone` extension of the document.
 *
 * @example
 * const route = defineRoute({
 *   method: "get", path: "/me", tags: ["identity"], summary: "The caller",
 *   zone: "api", auth: "user",
 *   responses: { 200: jsonResponse(MeResponse, "The caller") },
 * });
 * export const me = routes().openapi(route, (c) => c.json({ user }, 200));
 */
export function defineRoute<const R extends RouteSpec>(spec: R) {
  const { zone, auth, bodyLimit = DEFAULT_BODY_LIMIT, guards = [], ...config } = spec;
  const jsonBody = jsonBodyOf(spec);
  const middleware: MiddlewareHandler<AppEnv>[] = [
    ...(zone ? [rateLimit(zone)] : []),
    ...(auth ? [AUTH[auth]] : []),
    ...guards,
    limitBody(bodyLimit),
    ...(jsonBody ? [jsonBodyGate(jsonBody.optional)] : []),
  ];
  return createRoute({
    ...config,
    ...(auth && auth !== "optional" ? { security: [{ bearer: [] }] } : {}),
    ...(zone ? { "x-rate-limit-zone": typeof zone === "string" ? zone : zone.join(",") } : {}),
    responses: {
      ...config.responses,
      default: {
        description: "Problem details (RFC 9457)",
        content: { "application/problem+json": { schema: Problem } },
      },
    },
    middleware,
  } as unknown as Omit<R, keyof RoutePolicy> & { middleware: MiddlewareHandler<AppEnv>[] });
}

/**
 * A documented JSON response.
 *
 * @example
 * responses: { 200: jsonResponse(ChatSchema, "The chat") }
 */
export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/**
 * A JSON request body; `required: false` lets an empty body stand for `{}`.
 *
 * @example
 * request: { body: jsonRequest(ChatCreate) }
 */
export function jsonRequest<S extends z.ZodType>(schema: S, required = true) {
  return { required, content: { "application/json": { schema } } };
}

/**
 * A group of routes whose validation failures render as today's problem+json (400
 * `invalid_request` naming each field).
 *
 * @example
 * export const me = routes().openapi(meRoute, handler);
 */
export function routes() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
