import { expect } from "vitest";
import type { PasskeyDeps } from "../../../src/accounts/passkey-registration";
import { relyingParty } from "../../../src/accounts/relying-party";
import { ApiError } from "../../../src/errors/api-error";
import { MemoryChallengeStore, MemoryPasskeyStore } from "./accounts-memory-stores";

/** The deployment the passkey tests play: a web client at https://art.example. */
export const ORIGIN = "https://art.example";
export const RP_ID = "art.example";

export interface PasskeyFixture extends PasskeyDeps {
  challenges: MemoryChallengeStore;
  passkeys: MemoryPasskeyStore;
}

export function passkeyFixture(): PasskeyFixture {
  return {
    challenges: new MemoryChallengeStore(),
    passkeys: new MemoryPasskeyStore(),
    rp: relyingParty({ PUBLIC_BASE_URL: `${ORIGIN}/`, WEBAUTHN_RP_ID: undefined }),
  };
}

let users = 0;
export function someUser(name = "Ada") {
  users += 1;
  return { id: `usr_test${users}_${crypto.randomUUID().slice(0, 8)}`, display_name: name };
}

/** Awaits a rejection and checks it is the ApiError a route would render (status, code, detail). */
export async function expectApiError(
  promise: Promise<unknown>,
  status: number,
  code: string,
  detail?: RegExp,
): Promise<ApiError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a ${status} ${code}, but it succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  const api = error as ApiError;
  expect({ status: api.status, code: api.code }).toEqual({ status, code });
  if (detail) expect(api.detail).toMatch(detail);
  return api;
}
