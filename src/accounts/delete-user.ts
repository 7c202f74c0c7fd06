import type { Repository } from "../db/repository";
import type { ImageStore } from "../storage/image-store";

/**
 * The one way a user is deleted (`DELETE /me`, idle guests): the images its jobs stored go
 * from the image store first, then every row it owns in one batch
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
  await repo.users.deleteWithEverything(userId);
}
