import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { isoBase64URL, isoUint8Array } from "@simplewebauthn/server/helpers";
import { ApiError } from "../errors/api-error";
import { newId } from "../lib/ids";
import type { ChallengeStore } from "./challenge-store";
import {
  CHALLENGE_TTL_S,
  challengeOf,
  consumeChallenge,
  passkeyRefused,
  rememberChallenge,
} from "./challenges";
import type { PasskeyRecord, PasskeyStore } from "./passkey-store";
import { type PasskeyView, passkeyView } from "./passkey-view";
import type { RelyingParty } from "./relying-party";

export interface PasskeyDeps {
  challenges: ChallengeStore;
  passkeys: PasskeyStore;
  rp: RelyingParty;
}

export interface RegisteringUser {
  id: string;
  display_name: string;
}

/**
 * `POST /auth/passkeys/register/options`: creation options for a discoverable credential
 * (the user handle is the user id, so a later login needs no username), excluding the
 * user's existing passkeys so one authenticator is not registered twice.
 */
export async function registrationOptions(
  deps: PasskeyDeps,
  user: RegisteringUser,
  now = new Date(),
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await deps.passkeys.listByUser(user.id);
  const options = await generateRegistrationOptions({
    rpName: deps.rp.name,
    rpID: deps.rp.id,
    userID: isoUint8Array.fromUTF8String(user.id),
    userName: user.display_name,
    userDisplayName: user.display_name,
    timeout: CHALLENGE_TTL_S * 1000,
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
    authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
  });
  await rememberChallenge(deps.challenges, options.challenge, "registration", user.id, deps.rp, now);
  return options;
}

/**
 * `POST /auth/passkeys/register`: verifies the authenticator's attestation against the
 * challenge issued to this user, this relying party and origin, and stores the passkey.
 * The route then turns a guest into an account.
 */
export async function verifyRegistration(
  deps: PasskeyDeps,
  user: RegisteringUser,
  response: RegistrationResponseJSON,
  name: string | undefined,
  now = new Date(),
): Promise<PasskeyView> {
  const challenge = await consumeChallenge(
    deps.challenges,
    challengeOf(response.response.clientDataJSON),
    "registration",
    user.id,
    now,
  );
  let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>["registrationInfo"];
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge.challenge,
      expectedOrigin: challenge.origin,
      expectedRPID: challenge.rp_id,
      requireUserVerification: false,
    });
    info = result.verified ? result.registrationInfo : undefined;
  } catch (error) {
    throw passkeyRefused(reasonOf(error));
  }
  if (!info) throw passkeyRefused("the attestation did not verify");

  const passkey: PasskeyRecord = {
    id: newId("pk", now.getTime()),
    user_id: user.id,
    credential_id: info.credential.id,
    public_key: isoBase64URL.fromBuffer(info.credential.publicKey),
    counter: info.credential.counter,
    transports: info.credential.transports ?? response.response.transports ?? null,
    device_type: info.credentialDeviceType,
    backed_up: info.credentialBackedUp,
    aaguid: info.aaguid,
    name: name?.trim() || "Passkey",
    created_at: now.toISOString(),
    last_used_at: null,
  };
  if (!(await deps.passkeys.insert(passkey))) throw ApiError.conflict("This passkey is already registered.");
  return passkeyView(passkey);
}

export function transportsOf(
  p: PasskeyRecord,
): NonNullable<RegistrationResponseJSON["response"]["transports"]> {
  return (p.transports ?? []) as NonNullable<RegistrationResponseJSON["response"]["transports"]>;
}

/** The library's message, which names the failed check (origin, RP id, counter, signature). */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\.$/, "").slice(0, 300);
}
