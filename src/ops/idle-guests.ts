import { deleteUserWithEverything } from "../accounts/delete-user";
import type { Config } from "../config";
import type { Repository } from "../db/repository";
import type { ImageStore } from "../storage/image-store";

/** Guests deleted per nightly run at most; the rest wait for the next night. */
export const IDLE_GUESTS_PER_RUN = 1000;

export interface IdleGuestDeps {
  repo: Repository;
  store: ImageStore;
  config: Pick<Config, "GUEST_RETENTION_DAYS">;
}

/**
 * Deletes guests idle for `GUEST_RETENTION_DAYS` with everything they own (API.md, "Spend
 * and abuse limits"): their images from the image store first, then their rows in one batch,
 * so a failure leaves the guest to be found again the next night rather than rows pointing
 * at deleted images. Returns how many guests were deleted.
 *
 * @example
 * await deleteIdleGuests({ repo, store, config }, new Date());
 */
export async function deleteIdleGuests(deps: IdleGuestDeps, now: Date): Promise<number> {
  const before = new Date(now.getTime() - deps.config.GUEST_RETENTION_DAYS * 86_400_000).toISOString();
  const ids = await deps.repo.users.idleGuests(before, IDLE_GUESTS_PER_RUN);
  for (const id of ids) await deleteUserWithEverything(deps.repo, deps.store, id);
  return ids.length;
}
