import type { Message } from "../db/models";
import { publicMessage } from "../db/repos/chats";
import type { Repository } from "../db/repository";
import { TurnRefused } from "./chat-context";
import type { ChatSwipeFrame } from "./frames";

/**
 * `chat.swipe`: selects alternative `index` of the chat's last reply (the only one that can be
 * swiped, as in SillyTavern); the history the model sees follows the selection.
 * Throws `TurnRefused` (nothing changed) for a chat that is not the user's, a message that is
 * not the last reply, or an index out of range.
 */
export async function swipeLastReply(
  openRepo: () => Repository,
  userId: string,
  frame: ChatSwipeFrame,
): Promise<Message> {
  const repo = openRepo();
  try {
    const [chat, last] = await Promise.all([
      repo.chats.get(frame.chat_id, userId),
      repo.chats.lastMessage(frame.chat_id),
    ]);
    if (!chat) throw new TurnRefused("not_found", "No such chat.");
    if (last?.role !== "assistant" || last.id !== frame.message_id) {
      throw new TurnRefused("invalid_request", "Only the last reply of the character can be swiped.");
    }
    const chosen = last.swipes[frame.index];
    if (!chosen) {
      throw new TurnRefused("invalid_request", `index must be between 0 and ${last.swipes.length - 1}.`);
    }
    const selected = { ...last, swipe_index: frame.index, content: chosen.content };
    await repo.chats.saveMessage(selected, userId);
    return publicMessage(selected);
  } finally {
    await repo.sql.close().catch(() => {});
  }
}
