import type { Hook } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { z } from "zod";
import { ApiError, type FieldError } from "../errors/api-error";
import type { AppEnv } from "../types";

function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join(".") || "(root)",
    message: issue.message,
  }));
}

/** Parses with a schema or throws a 400 problem listing every field error. */
export function parseOr400<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  prefix?: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw ApiError.invalid(`The ${what} is invalid.`, fieldErrors(result.error, prefix));
  return result.data;
}

const WHAT: Record<string, { what: string; prefix?: string }> = {
  json: { what: "request body" },
  query: { what: "query string", prefix: "query" },
  param: { what: "path" },
  header: { what: "request headers" },
};

/**
 * Every route's validation failure as one 400 `invalid_request` problem: body fields by
 * their own path (`width`), query fields as `query.<name>`, path parameters by name (`id`).
 */
export const validationHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (result.success) return;
  const { what, prefix } = WHAT[result.target] ?? { what: result.target };
  throw ApiError.invalid(`The ${what} is invalid.`, fieldErrors(result.error, prefix));
};

/**
 * Reads a JSON body before the schema sees it: a wrong content type is 415, malformed JSON
 * is 400. With `optional`, an empty body stands for `{}` whatever its content type.
 */
export function jsonBodyGate(optional: boolean) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const text = await c.req.text();
    if (optional && text.trim() === "") {
      // The validator reads the cached text: an empty optional body is the empty object.
      (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve("{}");
      return next();
    }
    if (!/^application\/(.+\+)?json\b/i.test(c.req.header("Content-Type") ?? "")) {
      throw new ApiError(415, "unsupported_media_type", "Send the body as application/json.");
    }
    try {
      JSON.parse(text);
    } catch {
      throw ApiError.invalid("The body is not valid JSON.");
    }
    await next();
  });
}
