import { ApiError } from "../errors/api-error";
import type { PasskeyStore } from "./passkey-store";
import { type PasskeyView, passkeyView } from "./passkey-view";

/** `GET /me/passkeys`: the user's passkeys, newest first. */
export async function listPasskeys(store: PasskeyStore, userId: string): Promise<PasskeyView[]> {
  return (await store.listByUser(userId)).map(passkeyView);
}

/**
 * `DELETE /me/passkeys/:id`. Another user's passkey is a 404; an account's only passkey is a
 * 409, since without it the account could never be signed into again.
 */
export async function deletePasskey(store: PasskeyStore, userId: string, id: string): Promise<void> {
  const outcome = await store.deleteUnlessLast(userId, id);
  if (outcome === "missing") throw ApiError.notFound("passkey");
  if (outcome === "last")
    throw ApiError.conflict("This is the account's only passkey; add another before deleting it.");
}
