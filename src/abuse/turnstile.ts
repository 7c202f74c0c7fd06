import type { Config } from "../config";
import { ApiError } from "../errors/api-error";
import { describeError, log } from "../ops/log";

/** Longest wait for siteverify; a human check must not hold a sign-in for long. */
const VERIFY_TIMEOUT_MS = 5_000;

/** The part of siteverify's documented response this service reads. */
interface SiteverifyResponse {
  success?: unknown;
  "error-codes"?: unknown;
}

/**
 * Checks a Turnstile token with siteverify (TURNSTILE_VERIFY_URL) when TURNSTILE_SECRET_KEY is
 * set; does nothing otherwise. A missing or rejected token is 403 `challenge_failed`. An
 * unreachable or unreadable siteverify fails closed (503 `upstream_unavailable`): the check
 * guards guest creation, which spends money, so an outage must not turn it off. One retry on a
 * network error carries the same `idempotency_key`, so siteverify counts the token once.
 *
 * @example
 * await requireHuman(config, body.turnstile_token, clientAddress);
 */
export async function requireHuman(
  config: Pick<Config, "TURNSTILE_SECRET_KEY" | "TURNSTILE_VERIFY_URL">,
  token: string | undefined,
  remoteIp: string | null,
): Promise<void> {
  const secret = config.TURNSTILE_SECRET_KEY;
  if (!secret) return;
  if (!token) throw challengeFailed("A Turnstile token (turnstile_token) is required to create a guest.");
  const form = new URLSearchParams({ secret, response: token, idempotency_key: crypto.randomUUID() });
  if (remoteIp) form.set("remoteip", remoteIp);
  const outcome = await siteverify(config.TURNSTILE_VERIFY_URL, form);
  if (outcome.success === true) return;
  const codes = Array.isArray(outcome["error-codes"]) ? outcome["error-codes"].map(String) : [];
  log.info("turnstile rejected a token", { error_codes: codes.join(",") });
  throw challengeFailed("The human check failed; reload the challenge and try again.");
}

async function siteverify(url: string, form: URLSearchParams): Promise<SiteverifyResponse> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const res = await fetch(url, {
        method: "POST",
        body: form,
        signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS),
      });
      if (res.ok) {
        const body = (await res.json()) as unknown;
        if (body && typeof body === "object") return body as SiteverifyResponse;
      }
      lastError = new Error(`siteverify answered ${res.status}`);
      break;
    } catch (error) {
      lastError = error;
    }
  }
  log.error("turnstile siteverify unavailable", { error: describeError(lastError) });
  throw new ApiError(503, "upstream_unavailable", "The human check is unavailable; retry shortly.", {
    headers: { "Retry-After": "5" },
  });
}

function challengeFailed(detail: string): ApiError {
  return new ApiError(403, "challenge_failed", detail);
}
