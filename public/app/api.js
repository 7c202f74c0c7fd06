import { ApiError } from "./errors.js";

/**
 * The one way the client talks HTTP to `/api/v1`: adds the guest token, parses JSON, turns
 * problem+json into an {@link ApiError} with human words, and renews an expired guest token once.
 */

export const API_BASE = "/api/v1";
const TOKEN_KEY = "edge-art.token";
const USER_KEY = "edge-art.user";

/** @type {Promise<string> | null} a guest sign-up in flight, shared so parallel 401s create one user */
let renewing = null;

export function getToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function getUser() {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) ?? "null");
  } catch {
    return null;
  }
}

/**
 * Makes sure a usable token is stored: reuses the stored one when `/me` accepts it, otherwise signs
 * up a new guest silently.
 * @returns {Promise<{token: string, user: object}>}
 */
export async function ensureSession() {
  if (getToken()) {
    try {
      const { user } = await request("/me", { renew: false });
      localStorage.setItem(USER_KEY, JSON.stringify(user));
      return { token: getToken(), user };
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
    }
  }
  await renewSession();
  return { token: getToken(), user: getUser() };
}

/** Creates a new guest user and stores its token; concurrent callers share one request. */
export function renewSession() {
  renewing ??= (async () => {
    try {
      const response = await send("/auth/guest", { method: "POST", body: {} }, null);
      const session = await read(response);
      localStorage.setItem(TOKEN_KEY, session.token);
      localStorage.setItem(USER_KEY, JSON.stringify(session.user));
      return session.token;
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}

/**
 * @example
 * const { items, next_cursor } = await request("/characters", { query: { q: "elf", limit: 20 } });
 * @param {string} path below `/api/v1`
 * @param {object} [options]
 * @param {string} [options.method]
 * @param {any} [options.body] JSON-encoded unless it is a Blob/ArrayBuffer (sent raw)
 * @param {Record<string, string>} [options.headers]
 * @param {Record<string, any>} [options.query] empty values are left out
 * @param {boolean} [options.renew] renew the guest token and retry once on 401 (default true)
 * @param {AbortSignal} [options.signal]
 * @returns {Promise<any>} the parsed JSON body (null for 204)
 */
export async function request(path, options = {}) {
  const { renew = true, query } = options;
  const url = withQuery(path, query);
  let response = await send(url, options, getToken());
  if (response.status === 401 && renew) {
    await renewSession();
    response = await send(url, options, getToken());
  }
  return read(response);
}

/** Fetches a non-JSON resource (e.g. a card download) with auth, returning the Blob. */
export async function requestBlob(path) {
  let response = await send(path, {}, getToken());
  if (response.status === 401) {
    await renewSession();
    response = await send(path, {}, getToken());
  }
  if (!response.ok) await read(response);
  return response.blob();
}

async function send(path, { method = "GET", body, headers = {}, signal } = {}, token) {
  const init = { method, headers: { Accept: "application/json", ...headers }, signal };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] ??= "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  try {
    return await fetch(path.startsWith("/api/") ? path : API_BASE + path, init);
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new ApiError({ status: 0, code: "network" });
  }
}

async function read(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") ?? "";
  const body = type.includes("json") ? await response.json().catch(() => null) : null;
  if (response.ok) return body;
  const error = new ApiError({
    status: response.status,
    code: body?.code ?? codeForStatus(response.status),
    detail: body?.detail,
    errors: Array.isArray(body?.errors) ? body.errors : [],
    retryAfter: Number(response.headers.get("Retry-After")) || undefined,
    requestId: response.headers.get("X-Request-Id") ?? undefined,
  });
  // The whole problem body, for its extension members (e.g. a conflict's `existing_id`).
  error.problem = body;
  throw error;
}

// For answers without a problem body (e.g. a proxy's 502), guess the code from the status.
const CODE_BY_STATUS = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  429: "rate_limited",
  502: "upstream_unavailable",
  503: "upstream_unavailable",
  504: "upstream_unavailable",
};

function codeForStatus(status) {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? "internal" : "unknown");
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
