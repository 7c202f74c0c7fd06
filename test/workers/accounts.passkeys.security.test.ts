import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { authenticationOptions, verifyAuthentication } from "../../src/accounts/passkey-authentication";
import { deletePasskey } from "../../src/accounts/passkey-management";
import { registrationOptions, verifyRegistration } from "../../src/accounts/passkey-registration";
import { expectApiError, ORIGIN, passkeyFixture, RP_ID, someUser } from "./support/accounts";
import { b64url, SoftAuthenticator } from "./support/soft-authenticator";

// Storage: the real passkeys and webauthn_challenges tables on D1 (support/accounts.ts).

type Fixture = ReturnType<typeof passkeyFixture>;
type User = Awaited<ReturnType<typeof someUser>>;

async function registered(deps: Fixture, given?: User) {
  const user = given ?? (await someUser());
  const authenticator = await SoftAuthenticator.create();
  const options = await registrationOptions(deps, user);
  const passkey = await verifyRegistration(
    deps,
    user,
    await authenticator.register(options, { origin: ORIGIN }),
    "Key",
  );
  return { authenticator, passkey, user };
}

describe("passkey registration refusals", () => {
  it("refuses an attestation made for another origin (a phishing page) and stores nothing", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const options = await registrationOptions(deps, user);
    const response = await (await SoftAuthenticator.create()).register(options, {
      origin: "https://art-example.evil",
    });
    await expectApiError(verifyRegistration(deps, user, response, undefined), 401, "unauthorized", /origin/i);
    expect(await deps.passkeys.rows.size()).toBe(0);
  });

  it("refuses an attestation scoped to another relying party", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const options = await registrationOptions(deps, user);
    const response = await (await SoftAuthenticator.create()).register(options, {
      origin: ORIGIN,
      rpId: "evil.example",
    });
    await expectApiError(verifyRegistration(deps, user, response, undefined), 401, "unauthorized", /RP ID/i);
    expect(await deps.passkeys.rows.size()).toBe(0);
  });

  it("accepts a challenge once: the same response replayed is refused", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const options = await registrationOptions(deps, user);
    const response = await (await SoftAuthenticator.create()).register(options, { origin: ORIGIN });
    await verifyRegistration(deps, user, response, undefined);
    await expectApiError(
      verifyRegistration(deps, user, response, undefined),
      401,
      "unauthorized",
      /already used/,
    );
    expect(await deps.passkeys.rows.size()).toBe(1);
  });

  it("burns the challenge even when verification fails, so a corrected retry cannot reuse it", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const options = await registrationOptions(deps, user);
    const authenticator = await SoftAuthenticator.create();
    const wrong = await authenticator.register(options, { origin: "https://evil.example" });
    await expectApiError(verifyRegistration(deps, user, wrong, undefined), 401, "unauthorized", /origin/i);
    const right = await authenticator.register(options, { origin: ORIGIN });
    await expectApiError(
      verifyRegistration(deps, user, right, undefined),
      401,
      "unauthorized",
      /already used/,
    );
  });

  it("refuses a challenge issued to another user", async () => {
    const deps = passkeyFixture();
    const alice = await someUser("Alice");
    const mallory = await someUser("Mallory");
    const options = await registrationOptions(deps, alice);
    const response = await (await SoftAuthenticator.create()).register(options, { origin: ORIGIN });
    await expectApiError(
      verifyRegistration(deps, mallory, response, undefined),
      401,
      "unauthorized",
      /another user/,
    );
    expect(await deps.passkeys.rows.size()).toBe(0);
  });

  it("refuses a challenge older than 5 minutes", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const issued = new Date("2026-12-02T04:00:00Z");
    const options = await registrationOptions(deps, user, issued);
    const response = await (await SoftAuthenticator.create()).register(options, { origin: ORIGIN });
    const late = new Date(issued.getTime() + 300_000);
    await expectApiError(
      verifyRegistration(deps, user, response, undefined, late),
      401,
      "unauthorized",
      /expired/,
    );
  });

  it("refuses a challenge the server never issued", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const options = await registrationOptions(deps, user);
    const forged = b64url(crypto.getRandomValues(new Uint8Array(32)));
    const response = await (await SoftAuthenticator.create()).register(options, {
      origin: ORIGIN,
      challenge: forged,
    });
    await expectApiError(verifyRegistration(deps, user, response, undefined), 401, "unauthorized", /unknown/);
  });

  it("refuses a login challenge presented to registration", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const options = await registrationOptions(deps, user);
    const login = await authenticationOptions(deps);
    const response = await (await SoftAuthenticator.create()).register(options, {
      origin: ORIGIN,
      challenge: login.challenge,
    });
    await expectApiError(
      verifyRegistration(deps, user, response, undefined),
      401,
      "unauthorized",
      /another ceremony/,
    );
  });

  it("refuses to register a credential twice (409)", async () => {
    const deps = passkeyFixture();
    const { authenticator, user } = await registered(deps);
    const again = await authenticator.register(await registrationOptions(deps, user), { origin: ORIGIN });
    await expectApiError(verifyRegistration(deps, user, again, undefined), 409, "conflict");
    expect(await deps.passkeys.rows.size()).toBe(1);
  });

  it("answers a response whose clientDataJSON is not client data with 400", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const options = await registrationOptions(deps, user);
    const response = await (await SoftAuthenticator.create()).register(options, { origin: ORIGIN });
    const broken: RegistrationResponseJSON = {
      ...response,
      response: { ...response.response, clientDataJSON: "%%%" },
    };
    await expectApiError(verifyRegistration(deps, user, broken, undefined), 400, "invalid_request");
    expect(await deps.challenges.rows.size()).toBe(1);
  });
});

describe("passkey login refusals", () => {
  it("refuses an assertion made for another origin", async () => {
    const deps = passkeyFixture();
    const { authenticator, passkey } = await registered(deps);
    const response = await authenticator.login(await authenticationOptions(deps), {
      origin: "https://evil.example",
    });
    await expectApiError(verifyAuthentication(deps, response), 401, "unauthorized", /origin/i);
    expect((await deps.passkeys.rows.get(passkey.id))?.last_used_at).toBeNull();
  });

  it("refuses an assertion scoped to another relying party", async () => {
    const deps = passkeyFixture();
    const { authenticator } = await registered(deps);
    const response = await authenticator.login(await authenticationOptions(deps), {
      origin: ORIGIN,
      rpId: "evil.example",
    });
    await expectApiError(verifyAuthentication(deps, response), 401, "unauthorized", /RP ID/i);
  });

  it("accepts a login challenge once: a replayed assertion is refused", async () => {
    const deps = passkeyFixture();
    const { authenticator, user } = await registered(deps);
    const response = await authenticator.login(await authenticationOptions(deps), { origin: ORIGIN });
    expect((await verifyAuthentication(deps, response)).user_id).toBe(user.id);
    await expectApiError(verifyAuthentication(deps, response), 401, "unauthorized", /already used/);
  });

  it("lets exactly one of two concurrent logins with the same assertion win", async () => {
    const deps = passkeyFixture();
    const { authenticator } = await registered(deps);
    const response = await authenticator.login(await authenticationOptions(deps), { origin: ORIGIN });
    const results = await Promise.allSettled([
      verifyAuthentication(deps, response),
      verifyAuthentication(deps, response),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
  });

  it("refuses a signature counter that went backwards (a cloned authenticator)", async () => {
    const deps = passkeyFixture();
    const { authenticator, passkey } = await registered(deps);
    await verifyAuthentication(
      deps,
      await authenticator.login(await authenticationOptions(deps), { origin: ORIGIN, counter: 5 }),
    );
    const clone = await authenticator.login(await authenticationOptions(deps), {
      origin: ORIGIN,
      counter: 3,
    });
    await expectApiError(verifyAuthentication(deps, clone), 401, "unauthorized", /counter/i);
    const same = await authenticator.login(await authenticationOptions(deps), { origin: ORIGIN, counter: 5 });
    await expectApiError(verifyAuthentication(deps, same), 401, "unauthorized", /counter/i);
    expect((await deps.passkeys.rows.get(passkey.id))?.counter).toBe(5);
  });

  it("refuses a credential that was never registered", async () => {
    const deps = passkeyFixture();
    await registered(deps);
    const stranger = await SoftAuthenticator.create();
    stranger.userHandle = b64url(new TextEncoder().encode("usr_nobody"));
    const response = await stranger.login(await authenticationOptions(deps), { origin: ORIGIN });
    await expectApiError(verifyAuthentication(deps, response), 401, "unauthorized", /not registered/);
  });

  it("refuses a passkey after it was deleted", async () => {
    const deps = passkeyFixture();
    const { authenticator, passkey, user } = await registered(deps);
    const { authenticator: spare } = await (async () => {
      const a = await SoftAuthenticator.create();
      await verifyRegistration(
        deps,
        user,
        await a.register(await registrationOptions(deps, user), { origin: ORIGIN }),
        "Spare",
      );
      return { authenticator: a };
    })();
    await deletePasskey(deps.passkeys, user.id, passkey.id);
    const response = await authenticator.login(await authenticationOptions(deps), { origin: ORIGIN });
    await expectApiError(verifyAuthentication(deps, response), 401, "unauthorized", /not registered/);
    // The account's other passkey still works.
    const ok = await verifyAuthentication(
      deps,
      await spare.login(await authenticationOptions(deps), { origin: ORIGIN }),
    );
    expect(ok.user_id).toBe(user.id);
  });

  it("refuses a signature made by another key for a registered credential id", async () => {
    const deps = passkeyFixture();
    const { authenticator } = await registered(deps);
    const impostor = await SoftAuthenticator.create();
    impostor.userHandle = authenticator.userHandle;
    const forged = await impostor.login(await authenticationOptions(deps), { origin: ORIGIN });
    const response = { ...forged, id: authenticator.id, rawId: authenticator.id };
    await expectApiError(verifyAuthentication(deps, response), 401, "unauthorized", /signature/i);
  });

  it("refuses an assertion whose authenticator data was altered after signing", async () => {
    const deps = passkeyFixture();
    const { authenticator } = await registered(deps);
    const response = await authenticator.login(await authenticationOptions(deps), {
      origin: ORIGIN,
      counter: 1,
    });
    const altered = await authenticator.login(await authenticationOptions(deps), {
      origin: ORIGIN,
      counter: 99,
    });
    // Counter 99's authenticator data with counter 1's signature and client data: the challenge is live, the signature is not.
    const spliced = {
      ...altered,
      response: { ...altered.response, signature: response.response.signature },
    };
    await expectApiError(verifyAuthentication(deps, spliced), 401, "unauthorized", /signature/i);
  });

  it("refuses a user handle that is not the credential's owner", async () => {
    const deps = passkeyFixture();
    const { authenticator } = await registered(deps);
    const response = await authenticator.login(await authenticationOptions(deps), { origin: ORIGIN });
    const lying = {
      ...response,
      response: { ...response.response, userHandle: b64url(new TextEncoder().encode("usr_victim")) },
    };
    await expectApiError(verifyAuthentication(deps, lying), 401, "unauthorized", /user handle/);
  });

  it("refuses a registration challenge presented to login", async () => {
    const deps = passkeyFixture();
    const { authenticator, user } = await registered(deps);
    const reg = await registrationOptions(deps, user);
    const response = await authenticator.login({ challenge: reg.challenge, rpId: RP_ID }, { origin: ORIGIN });
    await expectApiError(verifyAuthentication(deps, response), 401, "unauthorized", /another ceremony/);
  });
});

describe("passkey deletion refusals", () => {
  it("refuses to delete an account's last passkey (409) and keeps it", async () => {
    const deps = passkeyFixture();
    const { passkey, user } = await registered(deps);
    await expectApiError(deletePasskey(deps.passkeys, user.id, passkey.id), 409, "conflict");
    expect(await deps.passkeys.rows.has(passkey.id)).toBe(true);
  });

  it("answers 404 for another user's passkey and leaves it alone", async () => {
    const deps = passkeyFixture();
    const alice = await registered(deps, await someUser("Alice"));
    await registered(deps, alice.user);
    const bob = await registered(deps, await someUser("Bob"));
    await expectApiError(deletePasskey(deps.passkeys, bob.user.id, alice.passkey.id), 404, "not_found");
    expect(await deps.passkeys.rows.has(alice.passkey.id)).toBe(true);
  });
});
