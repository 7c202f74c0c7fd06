import type { Config } from "../config";
import type { BucketRule } from "./token-bucket";

export const ZONES = ["api", "strict"] as const;

/** The old nginx zones: `api` (`api_limit`) and `strict` (`api_strict`). */
export type Zone = (typeof ZONES)[number];

/** API.md names these as zone `strict`; all are POST. */
const STRICT_POST_PATHS = new Set([
  "/api/v1/generate",
  "/api/v1/auth/guest",
  "/api/v1/chats",
  "/api/v1/characters",
  "/api/v1/characters/import",
]);

/** Probes and the contract document: monitors poll them and they cost nothing to answer. */
const UNLIMITED_PATHS = new Set(["/api/v1/health", "/api/v1/openapi.json"]);

/**
 * RunPod's webhook calls come from a few RunPod addresses on behalf of every user: a
 * per-IP limit would refuse them under load. They carry a per-job secret and are confirmed
 * against `/status`, so they are not limited here.
 */
const UNLIMITED_PREFIXES = ["/api/v1/webhooks/"];

/**
 * The zone a request is counted in, or `null` when it is not rate limited.
 *
 * - Every `/api/v1` route is in zone `api`, except `GET /api/v1/health`,
 *   `GET /api/v1/openapi.json` and the RunPod webhooks, which are never limited.
 * - The strict routes (`POST` generate, auth/guest, chats, characters, characters/import)
 *   consume from zone `strict` only, not from `api` as well: one bucket and one set of
 *   `RateLimit-*` headers per request, and `strict` is already the tighter of the two.
 *   A client can therefore spend both budgets in the same second (40 + 10 at once).
 * - Anything outside `/api/v1` (images, the web client) is not limited here.
 *
 * @example
 * zoneFor("POST", "/api/v1/auth/guest"); // "strict"
 * zoneFor("GET", "/api/v1/characters"); // "api"
 * zoneFor("GET", "/api/v1/health"); // null
 */
export function zoneFor(method: string, path: string): Zone | null {
  if (path !== "/api/v1" && !path.startsWith("/api/v1/")) return null;
  if (UNLIMITED_PATHS.has(path) || UNLIMITED_PREFIXES.some((prefix) => path.startsWith(prefix))) return null;
  if (method === "POST" && STRICT_POST_PATHS.has(path)) return "strict";
  return "api";
}

/** The configured rule of a zone (RATE_API_* / RATE_STRICT_*). */
export function zoneRule(config: Config, zone: Zone): BucketRule {
  return zone === "strict"
    ? { ratePerS: config.RATE_STRICT_PER_S, burst: config.RATE_STRICT_BURST }
    : { ratePerS: config.RATE_API_PER_S, burst: config.RATE_API_BURST };
}

export function isZone(value: unknown): value is Zone {
  return value === "api" || value === "strict";
}
