import { foldIntoSummary } from "../conversation";
import type { Chat } from "../db/models";
import type { TurnContext } from "./chat-context";
import type { TurnDeps } from "./chat-stream";
import type { HistoryMessage } from "./prompt-builder";

/** Chats with a fold in flight (one at a time per chat; a later turn folds what is left). */
const folding = new Set<string>();

/**
 * Long memory: folds the turns the prompt had no room for (`dropped`, oldest first), minus
 * those already folded (up to `summary_through`), into the chat's rolling summary with the
 * same model, and stores it. Runs in the background after the reply is stored; a failed
 * summary leaves the previous one and never reaches the turn.
 */
export async function foldDroppedTurns(
  deps: Pick<TurnDeps, "openRepo" | "config" | "userId" | "broadcast">,
  context: TurnContext,
  dropped: readonly HistoryMessage[],
): Promise<boolean> {
  const chat = context.chat;
  const through = chat.summary_through ? dropped.findIndex((m) => m.id === chat.summary_through) : -1;
  const turns = dropped.slice(through + 1).filter((m) => m.id !== undefined && m.content !== "");
  if (turns.length === 0 || folding.has(chat.id)) return false;
  folding.add(chat.id);
  try {
    const outcome = await foldIntoSummary(
      {
        previous: chat.summary,
        turns: turns.map((m) => ({ id: m.id, role: m.role, content: m.content })),
        characterName: context.character.name,
        userName: context.userName,
      },
      { baseUrl: deps.config.LLM_BASE_URL, apiKey: deps.config.LLM_API_KEY, model: deps.config.LLM_MODEL },
    );
    if (!outcome.updated) return false;
    const repo = deps.openRepo();
    let stored: Chat | null;
    try {
      stored = await repo.chats.update(chat.id, deps.userId, {
        summary: outcome.summary,
        summary_through: outcome.through,
      });
    } finally {
      await repo.sql.close().catch(() => {});
    }
    // The session's kept context needs no reload: a turn takes the chat row, summary
    // included, from its stamp (turn-stamp.ts). Every tab shows the summary it can edit; a chat
    // deleted meanwhile has none to show.
    if (stored) deps.broadcast({ type: "chat.updated", chat: stored });
    return stored !== null;
  } finally {
    folding.delete(chat.id);
  }
}
