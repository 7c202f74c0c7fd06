import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
} from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import {
  CHALLENGE_TTL_S,
  challengeOf,
  consumeChallenge,
  passkeyRefused,
  rememberChallenge,
} from "./challenges";
import { type PasskeyDeps, reasonOf, transportsOf } from "./passkey-registration";
import { type PasskeyView, passkeyView } from "./passkey-view";

/**
 * `POST /auth/passkeys/login/options`: request options with no `allowCredentials`, so the
 * browser offers any discoverable passkey it holds for this relying party.
 */
export async function authenticationOptions(
  deps: PasskeyDeps,
  now = new Date(),
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({
    rpID: deps.rp.id,
    timeout: CHALLENGE_TTL_S * 1000,
    userVerification: "preferred",
  });
  await rememberChallenge(deps.challenges, options.challenge, "authentication", null, deps.rp, now);
  return options;
}

export interface VerifiedLogin {
  user_id: string;
  passkey: PasskeyView;
}

/**
 * `POST /auth/passkeys/login`: the challenge is spent first (so even a refused attempt cannot
 * be retried with it), then the credential must be known, belong to the user handle it
 * claims, carry a valid signature over this RP id and origin, and a counter that moved
 * forward (or stays 0 for authenticators that keep none). The route then signs the user in
 * and merges a calling guest.
 */
export async function verifyAuthentication(
  deps: PasskeyDeps,
  response: AuthenticationResponseJSON,
  now = new Date(),
): Promise<VerifiedLogin> {
  const challenge = await consumeChallenge(
    deps.challenges,
    challengeOf(response.response.clientDataJSON),
    "authentication",
    null,
    now,
  );
  const passkey = await deps.passkeys.findByCredentialId(response.id);
  if (!passkey) throw passkeyRefused("the credential is not registered");
  const handle = response.response.userHandle;
  if (handle && handle !== isoBase64URL.fromUTF8String(passkey.user_id))
    throw passkeyRefused("the user handle does not match the credential");

  let newCounter: number;
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge.challenge,
      expectedOrigin: challenge.origin,
      expectedRPID: challenge.rp_id,
      credential: {
        id: passkey.credential_id,
        publicKey: isoBase64URL.toBuffer(passkey.public_key),
        counter: passkey.counter,
        transports: transportsOf(passkey),
      },
      requireUserVerification: false,
    });
    if (!result.verified) throw new Error("the signature did not verify");
    newCounter = result.authenticationInfo.newCounter;
  } catch (error) {
    throw passkeyRefused(reasonOf(error));
  }
  const usedAt = now.toISOString();
  if (!(await deps.passkeys.recordUse(passkey.id, passkey.counter, newCounter, usedAt)))
    throw passkeyRefused("the passkey was used concurrently");
  return {
    user_id: passkey.user_id,
    passkey: passkeyView({ ...passkey, counter: newCounter, last_used_at: usedAt }),
  };
}
