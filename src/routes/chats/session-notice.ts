import { ApiError } from "../../errors/api-error";
import { log } from "../../ops/log";
import type { ServerEvent } from "../../realtime/events";

function sessionOf(env: Env, owner: string) {
  return env.USER_SESSION.get(env.USER_SESSION.idFromName(owner));
}

/**
 * An edit waits for the chat's streaming reply, as a turn does ("one reply at a time per
 * chat"): 409 while one streams. If the session cannot be asked, the edit goes ahead.
 */
export async function refuseWhileReplying(env: Env, owner: string, chatId: string): Promise<void> {
  const busy = await sessionOf(env, owner)
    .replying(chatId)
    .catch(() => false);
  if (busy) throw ApiError.conflict("A reply is streaming in this chat; wait for chat.done or cancel it.");
}

/**
 * Tells the user's session that a chat changed over REST: it forgets what it remembered of the
 * chat and every socket gets `events`. Best effort: the change is stored either way.
 */
export async function tellSession(env: Env, owner: string, chatId: string, events: ServerEvent[]) {
  await sessionOf(env, owner)
    .chatChanged(chatId, events)
    .catch((error: unknown) => {
      log.warn("session not told of a chat change", { error: String(error) });
    });
}

/**
 * A picture over REST is a chat turn like one over the socket (API.md): it takes a token from
 * the same per-user bucket, held by the user's session. If the session cannot be asked, the
 * turn goes ahead (credits still bound what it spends).
 */
export async function takeChatTurn(
  env: Env,
  owner: string,
): Promise<{ allowed: boolean; retryAfterS: number }> {
  return sessionOf(env, owner)
    .takeChatTurn()
    .catch((error: unknown) => {
      log.warn("chat turn not counted: session unreachable", { error: String(error) });
      return { allowed: true, retryAfterS: 0 };
    });
}
