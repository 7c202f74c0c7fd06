import {
  clearSession,
  getExpiry,
  getRefreshToken,
  getToken,
  getUser,
  renewSession,
  request,
  storeSession,
  storeUser,
} from "./api.js";
import { ApiError } from "./errors.js";
import { notify } from "./notify.js";
import { credentialToJSON, parseCreationOptions, parseRequestOptions } from "./webauthn.js";

/**
 * Sessions beyond the first guest token: silent refresh of expired access tokens (one refresh at
 * a time across tabs, since a refresh token works once and a reused one revokes the session),
 * what happens when a session is gone for good, and passkeys (add one, sign in with one).
 */

const SIGNED_OUT_KEY = "edge-art.signed-out";
const FLASH_KEY = "edge-art.flash";
const LOCK_NAME = "edge-art.refresh";
// Refresh a little before the server would refuse the token (clock skew, a slow request).
const EXPIRY_MARGIN_MS = 20_000;

/** @type {Promise<boolean> | null} the refresh in flight in this tab */
let refreshing = null;

/**
 * The access token to send now: refreshed first when the stored expiry has passed. A refresh that
 * fails for a network reason leaves the old token (the request will tell).
 * @returns {Promise<string | null>}
 */
export async function freshToken() {
  const token = getToken();
  const expiry = getExpiry();
  if (!token || !expiry || expiry - EXPIRY_MARGIN_MS > Date.now() || !getRefreshToken()) return token;
  try {
    await recoverSession(token);
  } catch (error) {
    if (error?.code !== "network") throw error;
  }
  return getToken();
}

/**
 * After `staleToken` was refused (or has expired): refresh it; when the session is gone, start a
 * new guest (a guest had nothing else to lose; say so) or sign an account out.
 * @param {string | null} staleToken the token the failed request carried
 * @throws {ApiError} 401 `signed_out` when an account's session ended
 */
export async function recoverSession(staleToken) {
  // Another request (or tab) has already replaced the token this one carried.
  if (replacedSince(staleToken)) return;
  const hadRefresh = Boolean(getRefreshToken());
  if (hadRefresh && (await refreshTokens(staleToken))) return;
  if (getUser()?.kind === "account") {
    signOutLocally("expired");
    throw new ApiError({
      status: 401,
      code: "unauthorized",
      detail: "Your session has ended. Sign in again.",
    });
  }
  await renewSession();
  if (hadRefresh) {
    notify("Your guest session had ended, so we started a new one. Add a passkey to keep your chats.", {
      tone: "info",
      timeout: 12_000,
    });
  }
}

/** Whether a usable token other than `staleToken` is stored now. */
function replacedSince(staleToken) {
  const current = getToken();
  return Boolean(current) && current !== staleToken && !isExpired();
}

function isExpired() {
  const expiry = getExpiry();
  return expiry !== null && expiry - EXPIRY_MARGIN_MS <= Date.now();
}

/**
 * One refresh at a time: within the tab a shared promise, across tabs a Web Lock. Inside the lock
 * the stored token is checked again, since another tab may have refreshed while this one waited.
 * @returns {Promise<boolean>} false when the server refused the refresh token (session revoked)
 */
function refreshTokens(staleToken) {
  refreshing ??= refreshOnce(staleToken).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/**
 * Takes the lock when it is free. When another tab holds it, that tab is refreshing: wait for it,
 * then for its new token to reach this tab, since Chromium hands `localStorage` writes to other
 * tabs' processes asynchronously; refreshing on the old view would reuse a rotated refresh token,
 * which revokes the session. Only if no new token shows within a second does this tab refresh.
 */
async function refreshOnce(staleToken) {
  if (!navigator.locks) return refreshLocked(staleToken);
  const taken = await navigator.locks.request(LOCK_NAME, { ifAvailable: true }, async (lock) =>
    lock ? { result: await refreshLocked(staleToken) } : null,
  );
  if (taken) return taken.result;
  await navigator.locks.request(LOCK_NAME, async () => {});
  if (await tokenReplaced(staleToken, 1_000)) return true;
  return navigator.locks.request(LOCK_NAME, () => refreshLocked(staleToken));
}

async function tokenReplaced(staleToken, withinMs) {
  const until = Date.now() + withinMs;
  for (;;) {
    if (replacedSince(staleToken)) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One refresh, inside the lock: the stored token is checked again first. */
async function refreshLocked(staleToken) {
  if (replacedSince(staleToken)) return true;
  const refreshToken = getRefreshToken();
  if (!refreshToken) return false;
  try {
    const session = await request("/auth/refresh", {
      method: "POST",
      body: { refresh_token: refreshToken },
      anonymous: true,
    });
    storeSession(session);
    return true;
  } catch (error) {
    // Offline, throttled or a server hiccup: the session may well be fine; try again later.
    if (error?.status === 0 || error?.status === 429 || error?.status >= 500) throw error;
    return false;
  }
}

/** Whether an account's session ended here and the person has not chosen what to do next. */
export function isSignedOut() {
  return localStorage.getItem(SIGNED_OUT_KEY) !== null && !getToken();
}

/**
 * Forgets the tokens and shows the signed-out screen (main.js listens for `edge-art:signed-out`).
 * @param {"expired" | "signed-out" | "revoked"} reason
 */
export function signOutLocally(reason) {
  clearSession();
  localStorage.setItem(SIGNED_OUT_KEY, reason);
  window.dispatchEvent(new CustomEvent("edge-art:signed-out", { detail: reason }));
}

export function signedOutReason() {
  return localStorage.getItem(SIGNED_OUT_KEY);
}

/** Leaves the signed-out state as a brand-new guest. */
export async function continueAsGuest() {
  localStorage.removeItem(SIGNED_OUT_KEY);
  clearSession();
  await renewSession();
}

/** A message to show after the next page load (sign-in and deletion reload the app). */
export function flash(message) {
  sessionStorage.setItem(FLASH_KEY, message);
}

export function takeFlash() {
  const message = sessionStorage.getItem(FLASH_KEY);
  sessionStorage.removeItem(FLASH_KEY);
  return message;
}

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === "function" && Boolean(navigator.credentials);
}

/**
 * Registers a passkey for the signed-in user (a guest becomes an account and keeps everything).
 * @param {string} [name] a label for the list, e.g. "Chrome on Linux"
 * @returns {Promise<{passkey: object, user: object}>}
 */
export async function addPasskey(name = deviceName()) {
  const optionsJSON = await request("/auth/passkeys/register/options", { method: "POST", body: {} });
  const credential = await ceremony(() =>
    navigator.credentials.create({ publicKey: parseCreationOptions(optionsJSON.publicKey ?? optionsJSON) }),
  );
  const result = await request("/auth/passkeys/register", {
    method: "POST",
    body: { response: credentialToJSON(credential), name },
  });
  // A token from before sessions existed gets a refreshable session along with the passkey.
  if (result?.token) storeSession(result);
  else if (result?.user) storeUser(result.user);
  return result;
}

/**
 * Signs in with a discoverable passkey. Sent with the current guest's token, so whatever the
 * guest made here moves into the account.
 * @returns {Promise<{user: object, merged?: {characters: number, chats: number, generations: number}}>}
 */
export async function signInWithPasskey() {
  const optionsJSON = await request("/auth/passkeys/login/options", {
    method: "POST",
    body: {},
    anonymous: true,
  });
  const credential = await ceremony(() =>
    navigator.credentials.get({ publicKey: parseRequestOptions(optionsJSON.publicKey ?? optionsJSON) }),
  );
  const guest = getUser()?.kind === "account" ? null : await freshToken().catch(() => null);
  const body = { response: credentialToJSON(credential) };
  let session;
  try {
    session = await request("/auth/passkeys/login", {
      method: "POST",
      body,
      // The guest token only says whose things to merge; without one the login stands alone.
      anonymous: !guest,
      renew: false,
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      throw new Error("That passkey wasn't accepted here. It may have been deleted from your account.");
    }
    throw error;
  }
  localStorage.removeItem(SIGNED_OUT_KEY);
  storeSession(session);
  return session;
}

/** "Signed in. 2 chats moved to your account." */
export function describeMerge(merged) {
  const parts = [];
  const counts = [
    [merged?.chats, "chat"],
    [merged?.characters, "character"],
    [merged?.generations, "image"],
  ];
  for (const [count, noun] of counts) if (count > 0) parts.push(`${count} ${noun}${count === 1 ? "" : "s"}`);
  if (!parts.length) return "Signed in.";
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
  return `Signed in. ${list} moved to your account.`;
}

/** Ends this session on the server and here. */
export async function signOut() {
  await request("/auth/logout", { method: "POST", renew: false }).catch(() => {});
  signOutLocally("signed-out");
}

/** Deletes the user and everything they own, then starts over as a fresh guest. */
export async function deleteEverything() {
  await request("/me", { method: "DELETE" });
  localStorage.removeItem(SIGNED_OUT_KEY);
  clearSession();
  await renewSession();
}

/** Runs a WebAuthn call, turning the browser's refusals into sentences. */
async function ceremony(call) {
  if (!passkeysSupported()) throw new Error("This browser can't use passkeys.");
  try {
    const credential = await call();
    if (!credential) throw new Error("No passkey was chosen.");
    return credential;
  } catch (error) {
    if (error?.name === "NotAllowedError" || error?.name === "AbortError") {
      throw new Error("The passkey request was cancelled or timed out.");
    }
    if (error?.name === "InvalidStateError") throw new Error("This device already has a passkey for you.");
    if (error?.name === "SecurityError") throw new Error("Passkeys don't work on this address.");
    throw error;
  }
}

/** A label for a new passkey: the browser and the system, e.g. "Chrome on Linux". */
export function deviceName(ua = navigator.userAgent) {
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : "Browser";
  const system = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
      ? "iOS"
      : /Mac OS X/.test(ua)
        ? "macOS"
        : /Windows/.test(ua)
          ? "Windows"
          : /Linux/.test(ua)
            ? "Linux"
            : "";
  return system ? `${browser} on ${system}` : browser;
}
