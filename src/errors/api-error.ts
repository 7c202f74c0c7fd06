/** Stable machine-readable error codes of API.md. */
export type ErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "rate_limited"
  | "quota_exceeded"
  | "payload_too_large"
  | "unsupported_media_type"
  | "upstream_unavailable"
  | "challenge_failed"
  | "budget_exhausted"
  | "limit_reached"
  | "internal";

export interface FieldError {
  path: string;
  message: string;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/**
 * The one error type routes and services throw; `app.onError` renders it as problem+json.
 *
 * @example
 * throw ApiError.notFound("character");
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      /** Extension members of the problem body (RFC 9457 §3.2), e.g. a conflict's `existing_id`. */
      members?: Record<string, string>;
    } = {},
  ) {
    super(detail);
    this.name = "ApiError";
  }

  get title(): string {
    return TITLES[this.status] ?? "Error";
  }

  static invalid(detail: string, errors?: FieldError[]) {
    return new ApiError(400, "invalid_request", detail, { errors });
  }
  static unauthorized(detail = "A valid bearer token is required.") {
    return new ApiError(401, "unauthorized", detail, { headers: { "WWW-Authenticate": "Bearer" } });
  }
  static notFound(what: string) {
    return new ApiError(404, "not_found", `No such ${what}.`);
  }
  static conflict(detail: string, members?: Record<string, string>) {
    return new ApiError(409, "conflict", detail, { members });
  }
  static tooLarge(limitBytes: number) {
    return new ApiError(413, "payload_too_large", `The request body exceeds ${limitBytes} bytes.`);
  }
}
