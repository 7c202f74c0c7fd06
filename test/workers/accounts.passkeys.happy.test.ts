import { isoBase64URL } from "@simplewebauthn/server/helpers";
import { describe, expect, it } from "vitest";
import { authenticationOptions, verifyAuthentication } from "../../src/accounts/passkey-authentication";
import { deletePasskey, listPasskeys } from "../../src/accounts/passkey-management";
import { registrationOptions, verifyRegistration } from "../../src/accounts/passkey-registration";
import { relyingParty } from "../../src/accounts/relying-party";
import { ORIGIN, passkeyFixture, RP_ID, someUser } from "./support/accounts";
import { SoftAuthenticator } from "./support/soft-authenticator";

// Storage: the real passkeys and webauthn_challenges tables on D1 (support/accounts.ts).

async function register(
  deps: ReturnType<typeof passkeyFixture>,
  user: Awaited<ReturnType<typeof someUser>>,
  name?: string,
) {
  const authenticator = await SoftAuthenticator.create();
  const options = await registrationOptions(deps, user);
  const response = await authenticator.register(options, { origin: ORIGIN });
  const passkey = await verifyRegistration(deps, user, response, name);
  return { authenticator, passkey };
}

describe("relying party", () => {
  it("is the host and origin of PUBLIC_BASE_URL unless WEBAUTHN_RP_ID names a parent domain", () => {
    expect(
      relyingParty({ PUBLIC_BASE_URL: "https://app.art.example:8443/x", WEBAUTHN_RP_ID: undefined }),
    ).toEqual({
      id: "app.art.example",
      origin: "https://app.art.example:8443",
      name: "app.art.example",
    });
    expect(
      relyingParty({ PUBLIC_BASE_URL: "https://app.art.example", WEBAUTHN_RP_ID: "art.example" }).id,
    ).toBe("art.example");
  });
});

describe("passkey registration", () => {
  it("offers options for a discoverable credential with a 5-minute single-use challenge", async () => {
    const deps = passkeyFixture();
    const user = await someUser("Ada");
    const now = new Date("2026-12-02T04:00:00Z");
    const options = await registrationOptions(deps, user, now);

    expect(options.rp).toEqual({ id: RP_ID, name: RP_ID });
    expect(options.user.id).toBe(isoBase64URL.fromUTF8String(user.id));
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: "required",
      requireResidentKey: true,
      userVerification: "preferred",
    });
    expect(options.attestation).toBe("none");
    expect(options.pubKeyCredParams.map((p) => p.alg)).toContain(-7);
    expect(await deps.challenges.rows.get(options.challenge)).toEqual({
      challenge: options.challenge,
      purpose: "registration",
      user_id: user.id,
      rp_id: RP_ID,
      origin: ORIGIN,
      expires_at: "2026-12-02T04:05:00.000Z",
    });
  });

  it("verifies a real attestation and stores the credential", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const now = new Date("2026-12-02T04:00:00Z");
    const authenticator = await SoftAuthenticator.create();
    const options = await registrationOptions(deps, user, now);
    const response = await authenticator.register(options, { origin: ORIGIN });

    const passkey = await verifyRegistration(deps, user, response, "  Laptop  ", now);

    expect(passkey).toEqual({
      id: expect.stringMatching(/^pk_/),
      name: "Laptop",
      created_at: now.toISOString(),
      last_used_at: null,
    });
    const stored = await deps.passkeys.rows.get(passkey.id);
    expect(stored).toMatchObject({
      user_id: user.id,
      credential_id: authenticator.id,
      counter: 0,
      device_type: "multiDevice",
      backed_up: true,
      transports: ["internal", "hybrid"],
    });
    expect(isoBase64URL.toBuffer(stored?.public_key ?? "").length).toBeGreaterThan(64);
    expect(await deps.challenges.rows.size()).toBe(0);
  });

  it("excludes the user's existing passkeys from new options", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const { authenticator } = await register(deps, user);
    const options = await registrationOptions(deps, user);
    expect(options.excludeCredentials?.map((c) => c.id)).toEqual([authenticator.id]);
  });
});

describe("passkey login", () => {
  it("signs in with a discoverable credential: no allowCredentials, the user comes from the passkey", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const { authenticator, passkey } = await register(deps, user);

    const now = new Date("2026-12-02T04:10:00Z");
    const options = await authenticationOptions(deps, now);
    expect(options.allowCredentials).toBeUndefined();
    expect(options.rpId).toBe(RP_ID);
    expect(options.userVerification).toBe("preferred");
    expect(await deps.challenges.rows.get(options.challenge)).toMatchObject({
      purpose: "authentication",
      user_id: null,
    });

    const response = await authenticator.login(options, { origin: ORIGIN });
    const login = await verifyAuthentication(deps, response, now);

    expect(login).toEqual({ user_id: user.id, passkey: { ...passkey, last_used_at: now.toISOString() } });
    expect(await deps.passkeys.rows.get(passkey.id)).toMatchObject({
      counter: 1,
      last_used_at: now.toISOString(),
    });
  });

  it("signs in again and again as the counter moves forward", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const { authenticator, passkey } = await register(deps, user);
    for (const counter of [1, 2, 7]) {
      const options = await authenticationOptions(deps);
      const login = await verifyAuthentication(
        deps,
        await authenticator.login(options, { origin: ORIGIN, counter }),
      );
      expect(login.user_id).toBe(user.id);
      expect((await deps.passkeys.rows.get(passkey.id))?.counter).toBe(counter);
    }
  });

  it("accepts synced passkeys that keep no counter (always 0)", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const { authenticator } = await register(deps, user);
    for (let i = 0; i < 2; i++) {
      const options = await authenticationOptions(deps);
      const login = await verifyAuthentication(
        deps,
        await authenticator.login(options, { origin: ORIGIN, counter: 0 }),
      );
      expect(login.user_id).toBe(user.id);
    }
  });

  it("signs the same account in from a second device's passkey", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    await register(deps, user, "Phone");
    const { authenticator: laptop } = await register(deps, user, "Laptop");
    const login = await verifyAuthentication(
      deps,
      await laptop.login(await authenticationOptions(deps), { origin: ORIGIN }),
    );
    expect(login.user_id).toBe(user.id);
    expect(login.passkey.name).toBe("Laptop");
  });
});

describe("passkey management", () => {
  it("lists the user's passkeys newest first and deletes one of several", async () => {
    const deps = passkeyFixture();
    const user = await someUser();
    const other = await someUser("Bob");
    const first = await register(deps, user, "Phone");
    await new Promise((r) => setTimeout(r, 2));
    const second = await register(deps, user, "Laptop");
    await register(deps, other, "Bob's");

    expect((await listPasskeys(deps.passkeys, user.id)).map((p) => p.name)).toEqual(["Laptop", "Phone"]);
    await deletePasskey(deps.passkeys, user.id, first.passkey.id);
    expect(await listPasskeys(deps.passkeys, user.id)).toEqual([second.passkey]);
  });
});
