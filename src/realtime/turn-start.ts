import type { FullMessage } from "../db/models";
import type { Repository } from "../db/repository";
import { loadTurnContext, type TurnContext, TurnRefused, versionOf } from "./chat-context";
import type { TurnDeps } from "./chat-stream";
import type { ModelTurnFrame } from "./frames";
import { readTurnStamp, type TurnStamp } from "./turn-stamp";

/** What a turn needs before it asks the model; `error` when it must be refused. */
export type TurnReadiness = { context: TurnContext; last: FullMessage | null } | { error: unknown };

/** A turn's first phase, started alongside its credit charge. */
export interface TurnStart {
  /** The first phase's connection (context, the user's message); `runChatTurn` closes it. */
  repo: Repository;
  /** Settles (never rejects) once the context is ready or the turn is refused. */
  ready: Promise<TurnReadiness>;
}

/**
 * Starts reading what a turn needs, in parallel with its credit charge (one guarded write
 * that must come first: a refused turn sends nothing to the model). A `chat.send` whose chat
 * the session kept reads only the stamp (one small query) and takes the card, lorebook and
 * history from the session's own storage; anything else reads the context from the database.
 * Regenerate and continue act on the stored last reply: they read the context afresh.
 */
export function startTurn(deps: TurnDeps, frame: ModelTurnFrame): TurnStart {
  const repo = deps.openRepo();
  const ready = prepare(deps, repo, frame).then(
    (prepared): TurnReadiness => prepared,
    (error: unknown): TurnReadiness => ({ error }),
  );
  return { repo, ready };
}

/** Waits for a started turn that will not run (refused by its charge) and closes its connection. */
export async function abandonTurn(start: TurnStart): Promise<void> {
  await start.ready;
  await start.repo.sql.close().catch(() => {});
}

async function prepare(
  deps: TurnDeps,
  repo: Repository,
  frame: ModelTurnFrame,
): Promise<{ context: TurnContext; last: FullMessage | null }> {
  if (frame.type === "chat.send")
    return { context: await currentContext(deps, repo, frame.chat_id), last: null };
  deps.memory.forget(frame.chat_id);
  const [context, last] = await Promise.all([
    fromDatabase(deps, repo, frame.chat_id, Date.now()),
    repo.chats.lastMessage(frame.chat_id),
  ]);
  return { context, last };
}

/** The chat's context: kept by the session and still current by its stamp, or read from the database. */
export async function currentContext(deps: TurnDeps, repo: Repository, chatId: string): Promise<TurnContext> {
  const now = Date.now();
  const kept = deps.memory.get(chatId, now);
  if (!kept) return fromDatabase(deps, repo, chatId, now);
  const stamp = await (deps.stamp ? deps.stamp.ask(chatId) : readTurnStamp(repo, deps.userId, chatId));
  deps.timing?.mark("checked");
  if (!stamp) {
    deps.memory.forget(chatId);
    throw new TurnRefused("not_found", "No such chat.");
  }
  if (!isCurrent(kept, stamp)) {
    deps.memory.forget(chatId);
    return fromDatabase(deps, repo, chatId, now);
  }
  deps.timing?.note("source", "kept");
  // The history array is the kept one: the turn appends to it what it stores.
  return {
    ...kept,
    chat: stamp.chat,
    userName: stamp.userName,
    personaDescription: stamp.personaDescription,
  };
}

/** A kept context is current when nothing it holds moved: the character and the newest message. */
export function isCurrent(kept: TurnContext, stamp: TurnStamp): boolean {
  return (
    stamp.characterVersion !== null &&
    kept.chat.character_id === stamp.chat.character_id &&
    (kept.characterVersion ?? null) === versionOf(stamp.characterVersion) &&
    (kept.history.at(-1)?.id ?? null) === stamp.lastMessageId
  );
}

async function fromDatabase(
  deps: TurnDeps,
  repo: Repository,
  chatId: string,
  now: number,
): Promise<TurnContext> {
  deps.timing?.note("source", "database");
  const loaded = await loadTurnContext(repo, deps.userId, chatId, deps.config.LLM_CONTEXT_BUDGET_CHARS);
  return deps.memory.set(chatId, loaded, now);
}
