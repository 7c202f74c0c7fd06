import type { Chat, Message } from "../db/models";
import type { Repository } from "../db/repository";
import { userCallName } from "./names";
import type { HistoryMessage, PromptCharacter } from "./prompt-builder";

/** A `chat.send` refused before anything was stored; `code` goes into the `error` frame. */
export class TurnRefused extends Error {
  constructor(
    readonly code: "not_found" | "conflict" | "quota_exceeded",
    readonly detail: string,
  ) {
    super(detail);
    this.name = "TurnRefused";
  }
}

/** Everything a reply is written from. */
export interface TurnContext {
  chat: Chat;
  character: PromptCharacter;
  userName: string;
  /** Oldest first. */
  history: HistoryMessage[];
}

const HISTORY_PAGE = 50;
/** However short the messages, a prompt never reads more than this many. */
const HISTORY_MAX_MESSAGES = 500;

/**
 * The most recent messages whose text adds up to about `budgetChars` (one page more than
 * the prompt builder can use, so it decides exactly where to cut), oldest first.
 */
export async function loadRecentHistory(
  repo: Repository,
  chatId: string,
  budgetChars: number,
): Promise<Message[]> {
  const newestFirst: Message[] = [];
  let chars = 0;
  let before: Message | undefined;
  while (chars < budgetChars && newestFirst.length < HISTORY_MAX_MESSAGES) {
    const page = await repo.chats.messages(chatId, HISTORY_PAGE, before);
    for (const message of page) chars += message.content.length;
    newestFirst.push(...page);
    before = page[page.length - 1];
    if (page.length < HISTORY_PAGE) break;
  }
  return newestFirst.reverse();
}

/**
 * Loads the user's chat, its character, the user's name and recent history; refuses a chat
 * that is not the user's (the same answer as one that does not exist).
 */
export async function loadTurnContext(
  repo: Repository,
  userId: string,
  chatId: string,
  budgetChars: number,
): Promise<TurnContext> {
  // Everything is read at once, in one round trip: a woken session (most turns, after the
  // user has been reading or typing for a while) pays one database latency, not two. History
  // and character are dropped unread when the chat is not the user's.
  const [chat, character, user, history] = await Promise.all([
    repo.chats.get(chatId, userId),
    repo.characters.ofChat(chatId, userId),
    repo.users.get(userId),
    loadRecentHistory(repo, chatId, budgetChars),
  ]);
  if (!chat) throw new TurnRefused("not_found", "No such chat.");
  if (!character) throw new TurnRefused("not_found", "The character of this chat is no longer available.");
  return {
    chat,
    character,
    userName: userCallName(user),
    history: history.map((message) => ({ role: message.role, content: message.content })),
  };
}
