import type { Repository } from "../db/repository";
import { portraitKeyOf } from "../generation/image-keys";
import type { ImageStore } from "../storage/image-store";

/**
 * The one way a user is deleted (`DELETE /me`, idle guests): the images its jobs stored and
 * its characters' imported portraits go from the image store first, then every row it owns in one batch
 * (`UsersRepo.deleteWithEverything`). A failure in between leaves rows pointing at missing
 * images, never images nobody can find again; running it again finishes the job.
 *
 * @example
 * await deleteUserWithEverything(repo, images, user.id);
 */
export async function deleteUserWithEverything(
  repo: Repository,
  images: ImageStore,
  userId: string,
): Promise<void> {
  for (const key of await repo.users.imageKeys(userId)) await images.delete(key);
  await deletePortraits(repo, images, userId);
  await repo.users.deleteWithEverything(userId);
}

/** Deletes the stored portraits of the owner's characters (all, or just `characterId`). */
export async function deletePortraits(
  repo: Repository,
  images: ImageStore,
  ownerId: string,
  characterId?: string,
): Promise<void> {
  for (const { id, avatar_url } of await repo.characters.avatarsOf(ownerId, characterId)) {
    const key = portraitKeyOf(id, avatar_url);
    if (key) await images.delete(key);
  }
}
