import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { describeError, log } from "../ops/log";
import { ApiError, type ErrorCode } from "./api-error";

const CODES: Record<number, ErrorCode> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
  502: "upstream_unavailable",
  503: "upstream_unavailable",
};

const DETAILS: Record<number, string> = {
  400: "The request is malformed.",
  401: "A valid bearer token is required.",
  413: "The request body is too large.",
  415: "Send the body as application/json.",
};

/**
 * Hono's own `HTTPException` (body limits, validators, bearer auth) as an ApiError, its
 * status mapped to our code; headers it set (e.g. `WWW-Authenticate`) are kept.
 */
function fromHttpException(err: HTTPException): ApiError {
  const status = err.status;
  const code = CODES[status] ?? (status >= 500 ? "internal" : "invalid_request");
  const detail = /malformed json/i.test(err.message)
    ? "The body is not valid JSON."
    : (DETAILS[status] ?? (err.message || "The request cannot be served."));
  const headers: Record<string, string> = {};
  err.res?.headers.forEach((value, name) => {
    if (!/^content-(type|length)$/i.test(name)) headers[name] = value;
  });
  return new ApiError(status, code, detail, { headers });
}

/** Renders any thrown value as RFC 9457 problem+json; unknown errors become a 500 without internals. */
export function problemResponse(c: Context, err: unknown): Response {
  const apiError =
    err instanceof ApiError ? err : err instanceof HTTPException ? fromHttpException(err) : null;
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
    ...apiError?.extra.members,
    request_id: c.get("requestId"),
  };
  const headers = new Headers(apiError?.extra.headers);
  headers.set("Content-Type", "application/problem+json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers });
}
