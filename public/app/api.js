import { freshToken, isSignedOut, recoverSession } from "./auth.js";
import { ApiError } from "./errors.js";
import { turnstileToken } from "./turnstile.js";

/**
 * The one way the client talks HTTP to `/api/v1`: adds the access token, parses JSON, turns
 * problem+json into an {@link ApiError} with human words, and on a 401 refreshes the session
 * (auth.js) and retries once.
 */

export const API_BASE = "/api/v1";
const TOKEN_KEY = "edge-art.token";
const USER_KEY = "edge-art.user";
const REFRESH_KEY = "edge-art.refresh";
const EXPIRES_KEY = "edge-art.expires";

/** @type {Promise<string> | null} a guest sign-up in flight, shared so parallel 401s create one user */
let renewing = null;

export function getToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function getRefreshToken() {
  return localStorage.getItem(REFRESH_KEY);
}

/** When the stored access token expires (ms since the epoch), or null when unknown. */
export function getExpiry() {
  const value = Number(localStorage.getItem(EXPIRES_KEY));
  return Number.isFinite(value) && value > 0 ? value : null;
}

/** Stores a sign-in response (`POST /auth/guest`, `/auth/refresh`, passkey login). */
export function storeSession({ token, refresh_token, expires_at, user }) {
  localStorage.setItem(TOKEN_KEY, token);
  if (refresh_token) localStorage.setItem(REFRESH_KEY, refresh_token);
  else localStorage.removeItem(REFRESH_KEY);
  const expiry = expires_at ? Date.parse(expires_at) : Number.NaN;
  if (Number.isFinite(expiry)) localStorage.setItem(EXPIRES_KEY, String(expiry));
  else localStorage.removeItem(EXPIRES_KEY);
  if (user) storeUser(user);
}

/** Forgets every token (the user record too). */
export function clearSession() {
  for (const key of [TOKEN_KEY, REFRESH_KEY, EXPIRES_KEY, USER_KEY]) localStorage.removeItem(key);
}

/** Keeps the signed-in user's record and tells the page (the account link in the top bar). */
export function storeUser(user) {
  localStorage.setItem(USER_KEY, JSON.stringify(user));
  window.dispatchEvent(new CustomEvent("edge-art:user", { detail: user }));
}

export function getUser() {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) ?? "null");
  } catch {
    return null;
  }
}

/**
 * Makes sure a usable token is stored: reuses the stored one when `/me` accepts it (refreshing it
 * when expired), otherwise signs up a new guest silently. An account whose session ended stays
 * signed out (`signedOut: true`) until the person signs in again or chooses to continue as a guest.
 * @returns {Promise<{token: string | null, user: object | null, signedOut?: boolean}>}
 */
export async function ensureSession() {
  if (getToken() || getRefreshToken()) {
    try {
      const { user } = await request("/me");
      storeUser(user);
      return { token: getToken(), user };
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
    }
  }
  if (isSignedOut()) return { token: null, user: null, signedOut: true };
  await renewSession();
  return { token: getToken(), user: getUser() };
}

/** Creates a new guest user and stores its token; concurrent callers share one request. */
export function renewSession() {
  renewing ??= (async () => {
    try {
      const turnstile_token = await turnstileToken(API_BASE);
      const body = turnstile_token ? { turnstile_token } : {};
      const response = await send("/auth/guest", { method: "POST", body }, null);
      const session = await read(response);
      storeSession(session);
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
 * @param {boolean} [options.renew] refresh the session and retry once on 401 (default true)
 * @param {boolean} [options.anonymous] send no token at all (sign-in and refresh calls)
 * @param {AbortSignal} [options.signal]
 * @returns {Promise<any>} the parsed JSON body (null for 204)
 */
export async function request(path, options = {}) {
  const { renew = true, anonymous = false, query } = options;
  const url = withQuery(path, query);
  const token = anonymous ? null : await freshToken();
  let response = await send(url, options, token);
  if (response.status === 401 && renew && !anonymous) {
    await recoverSession(token);
    response = await send(url, options, getToken());
  }
  return read(response);
}

/** Fetches a non-JSON resource (e.g. a card download) with auth, returning the Blob. */
export async function requestBlob(path) {
  const token = await freshToken();
  let response = await send(path, {}, token);
  if (response.status === 401) {
    await recoverSession(token);
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
