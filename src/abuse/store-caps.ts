import type { Repository } from "../db/repository";
import { ApiError } from "../errors/api-error";

/**
 * Refuses a new own character past MAX_CHARACTERS_PER_USER (409 `limit_reached`), before
 * the body is parsed into a row. A count, not a lock: concurrent creates may pass it together
 * and overshoot by at most their number (the `strict` zone bounds that to a handful), which
 * a store bound tolerates; the credits are the exact bound, this one keeps rows finite.
 */
export async function assertCharacterRoom(repo: Repository, ownerId: string, max: number): Promise<void> {
  if ((await repo.characters.countOwned(ownerId)) >= max) {
    throw new ApiError(409, "limit_reached", `At most ${max} characters per user; delete one to make room.`);
  }
}

/** As `assertCharacterRoom`, for chats past MAX_CHATS_PER_USER. */
export async function assertChatRoom(repo: Repository, userId: string, max: number): Promise<void> {
  if ((await repo.chats.countOwned(userId)) >= max) {
    throw new ApiError(409, "limit_reached", `At most ${max} chats per user; delete one to make room.`);
  }
}
