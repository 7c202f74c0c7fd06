import type { Config } from "../config";
import type { BucketRule } from "./token-bucket";

export const ZONES = ["api", "strict", "identity"] as const;

/**
 * The old nginx zones: `api` (`api_limit`) and `strict` (`api_strict`). Each route names
 * its zone where it is defined (`defineRoute({ zone })`, src/http/route.ts):
 *
 * - Every `/api/v1` route is in zone `api`, except `GET /api/v1/health`,
 *   `GET /api/v1/openapi.json` and the RunPod webhooks, which are never limited.
 * - The strict routes (`POST` generate, auth/guest, chats, characters, characters/import)
 *   consume from zone `strict` only, not from `api` as well: one bucket and one set of
 *   `RateLimit-*` headers per request, and `strict` is already the tighter of the two.
 *   A client can therefore spend both budgets in the same second (40 + 10 at once).
 * - `identity` (new identities: `POST /auth/guest`, passkey login and registration): a bucket of
 *   GUEST_PER_IP_PER_HOUR refilling over an hour. `/auth/guest` takes from `strict` as well
 *   (a route may name several zones; the tighter answer's headers are sent).
 * - Anything outside `/api/v1` (images, the web client) is not limited here, and neither
 *   is a path no route matches: its 404 costs less than the limiter's RPC would.
 */
export type Zone = (typeof ZONES)[number];

/** The configured rule of a zone (RATE_API_* / RATE_STRICT_*). */
export function zoneRule(config: Config, zone: Zone): BucketRule {
  if (zone === "identity")
    return { ratePerS: config.GUEST_PER_IP_PER_HOUR / 3600, burst: config.GUEST_PER_IP_PER_HOUR };
  return zone === "strict"
    ? { ratePerS: config.RATE_STRICT_PER_S, burst: config.RATE_STRICT_BURST }
    : { ratePerS: config.RATE_API_PER_S, burst: config.RATE_API_BURST };
}

export function isZone(value: unknown): value is Zone {
  return typeof value === "string" && (ZONES as readonly string[]).includes(value);
}

/**
 * What a zone does when the limiter cannot be reached: `api` lets requests through (or what
 * RATE_LIMIT_FAILURE_MODE says: the operator's override for that zone only); every zone that
 * guards spending (`strict`, and `identity`) fails closed, whatever the setting: an outage of
 * the limiter must not open the door to unlimited guests or generations.
 */
export function failureMode(config: Pick<Config, "RATE_LIMIT_FAILURE_MODE">, zone: Zone): "open" | "closed" {
  return zone === "api" ? config.RATE_LIMIT_FAILURE_MODE : "closed";
}
