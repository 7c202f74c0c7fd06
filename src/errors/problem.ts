import type { Context } from "hono";
import { describeError, log } from "../ops/log";
import { ApiError } from "./api-error";

/** Renders any thrown value as RFC 9457 problem+json; unknown errors become a 500 without internals. */
export function problemResponse(c: Context, err: unknown): Response {
  const apiError = err instanceof ApiError ? err : null;
  if (!apiError) {
    log.error("unhandled error", { request_id: c.get("requestId"), error: describeError(err) });
  }
  const status = apiError?.status ?? 500;
  const body = {
    type: "about:blank",
    title: apiError?.title ?? "Internal Server Error",
    status,
    detail: apiError?.detail ?? "Something went wrong on our side; the request id identifies it in our logs.",
    code: apiError?.code ?? "internal",
    ...(apiError?.extra.errors ? { errors: apiError.extra.errors } : {}),
    request_id: c.get("requestId"),
  };
  const headers = new Headers(apiError?.extra.headers);
  headers.set("Content-Type", "application/problem+json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers });
}
