import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, type FieldError } from "../errors/api-error";

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

async function readJson(c: Context, allowEmpty: boolean): Promise<unknown> {
  const text = await c.req.text();
  if (allowEmpty && text.trim() === "") return {};
  if (!/^application\/(.+\+)?json\b/i.test(c.req.header("Content-Type") ?? "")) {
    throw new ApiError(415, "unsupported_media_type", "Send the body as application/json.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw ApiError.invalid("The body is not valid JSON.");
  }
}

/** The JSON body, validated: wrong content type is 415, malformed JSON and schema errors are 400. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseOr400(schema, await readJson(c, false), "request body");
}

/** Like `jsonBody`, but an empty body means `{}` (for endpoints whose body is optional). */
export async function optionalJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseOr400(schema, await readJson(c, true), "request body");
}

export function query<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseOr400(schema, c.req.query(), "query string", "query");
}
