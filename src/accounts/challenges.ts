import { decodeClientDataJSON } from "@simplewebauthn/server/helpers";
import { ApiError } from "../errors/api-error";
import type { ChallengePurpose, ChallengeRecord, ChallengeStore } from "./challenge-store";
import type { RelyingParty } from "./relying-party";

/** How long a challenge can be answered (API.md: 5 minutes). */
export const CHALLENGE_TTL_S = 300;

/** Remembers a challenge the library just generated, bound to its purpose, user, RP id and origin. */
export async function rememberChallenge(
  store: ChallengeStore,
  challenge: string,
  purpose: ChallengePurpose,
  userId: string | null,
  rp: RelyingParty,
  now = new Date(),
): Promise<void> {
  await store.put({
    challenge,
    purpose,
    user_id: userId,
    rp_id: rp.id,
    origin: rp.origin,
    expires_at: new Date(now.getTime() + CHALLENGE_TTL_S * 1000).toISOString(),
  });
}

/** The challenge an authenticator signed, read from the response's clientDataJSON. */
export function challengeOf(clientDataJSON: string): string {
  try {
    const { challenge } = decodeClientDataJSON(clientDataJSON);
    if (typeof challenge === "string" && challenge.length > 0) return challenge;
  } catch {
    // fall through: not base64url JSON
  }
  throw ApiError.invalid("response.clientDataJSON is not a WebAuthn client data document.", [
    { path: "response.response.clientDataJSON", message: "not base64url-encoded client data JSON" },
  ]);
}

/**
 * Takes (deletes) the challenge whatever happens next, so it can be answered once only,
 * and checks it was issued for this ceremony, this user and is still fresh.
 */
export async function consumeChallenge(
  store: ChallengeStore,
  challenge: string,
  purpose: ChallengePurpose,
  userId: string | null,
  now = new Date(),
): Promise<ChallengeRecord> {
  const record = await store.take(challenge);
  if (!record) throw passkeyRefused("the challenge is unknown or was already used");
  if (record.purpose !== purpose) throw passkeyRefused("the challenge was issued for another ceremony");
  if (record.user_id !== userId) throw passkeyRefused("the challenge was issued to another user");
  if (Date.parse(record.expires_at) <= now.getTime()) throw passkeyRefused("the challenge has expired");
  return record;
}

/** The one 401 of every refused passkey ceremony; the reason helps a developer, not an attacker. */
export function passkeyRefused(reason: string): ApiError {
  return ApiError.unauthorized(`The passkey response was refused: ${reason}.`);
}
