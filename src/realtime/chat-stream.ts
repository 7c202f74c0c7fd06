import type { Config } from "../config";
import type { Message, MessageStatus } from "../db/models";
import type { Repository } from "../db/repository";
import { newId } from "../lib/ids";
import { ReplyStopped } from "./active-replies";
import { loadTurnContext } from "./chat-context";
import type { ServerEvent } from "./events";
import type { ChatSendFrame } from "./frames";
import { LlmError, streamCompletion } from "./llm-client";
import { buildPrompt } from "./prompt-builder";

export interface TurnDeps {
  repo: Repository;
  config: Pick<
    Config,
    | "LLM_BASE_URL"
    | "LLM_API_KEY"
    | "LLM_MODEL"
    | "LLM_CONTEXT_BUDGET_CHARS"
    | "LLM_STALL_TIMEOUT_MS"
    | "LLM_REPLY_TIMEOUT_MS"
  >;
  userId: string;
  /** Sends an event to every socket of the user. */
  broadcast(event: ServerEvent): void;
  /** Aborted (with a `ReplyStopped`) when the user cancels or deletes the chat. */
  signal: AbortSignal;
}

function log(level: "warn" | "error", msg: string, fields: Record<string, unknown>) {
  console[level](JSON.stringify({ level, msg, ...fields }));
}

/**
 * One exchange of a chat: stores the user's message and echoes it (`chat.message`), streams
 * the character's reply (`chat.delta`), then stores the reply and announces it
 * (`chat.message` + `chat.done`) - `complete`, or `cancelled`/`failed` with whatever was
 * streamed. A model failure also sends `error` (`upstream_unavailable`).
 * Throws `TurnRefused` (nothing stored) for a chat that is not the user's.
 */
export async function runChatTurn(deps: TurnDeps, frame: ChatSendFrame): Promise<void> {
  const { repo, config, userId, broadcast, signal } = deps;
  const context = await loadTurnContext(repo, userId, frame.chat_id, config.LLM_CONTEXT_BUDGET_CHARS);

  const sentAt = Date.now();
  const userMessage: Message = {
    id: newId("msg", sentAt),
    chat_id: context.chat.id,
    role: "user",
    content: frame.content,
    status: "complete",
    created_at: new Date(sentAt).toISOString(),
  };
  await repo.chats.addMessage(userMessage, userId);
  broadcast({
    type: "chat.message",
    message: userMessage,
    ...(frame.client_id !== undefined ? { client_id: frame.client_id } : {}),
  });

  const startedAt = Math.max(Date.now(), sentAt + 1);
  const replyId = newId("msg", startedAt);
  const messages = buildPrompt({
    character: context.character,
    userName: context.userName,
    history: context.history,
    message: frame.content,
    budgetChars: config.LLM_CONTEXT_BUDGET_CHARS,
  });

  let text = "";
  let status: MessageStatus = "complete";
  let failure: LlmError | null = null;
  try {
    const pieces = streamCompletion(
      { baseUrl: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY, model: config.LLM_MODEL, messages },
      { stallMs: config.LLM_STALL_TIMEOUT_MS, totalMs: config.LLM_REPLY_TIMEOUT_MS, signal },
    );
    for await (const delta of pieces) {
      text += delta;
      broadcast({ type: "chat.delta", chat_id: context.chat.id, message_id: replyId, delta });
    }
    if (signal.aborted) status = "cancelled";
  } catch (error) {
    status = "failed";
    failure = error instanceof LlmError ? error : new LlmError("network", "The model could not be reached.");
    log("warn", "chat reply failed", {
      chat_id: context.chat.id,
      kind: failure.kind,
      status: failure.status,
    });
  }

  const stopped = signal.reason instanceof ReplyStopped ? signal.reason.reason : null;
  if (stopped === "deleted") {
    broadcast({
      type: "error",
      code: "not_found",
      detail: "The chat was deleted.",
      chat_id: context.chat.id,
    });
    return;
  }

  const reply: Message = {
    id: replyId,
    chat_id: context.chat.id,
    role: "assistant",
    content: text,
    status,
    created_at: new Date(startedAt).toISOString(),
  };
  try {
    await repo.chats.addMessage(reply, userId);
  } catch (error) {
    log("error", "storing a chat reply failed", { chat_id: context.chat.id, error: String(error) });
    broadcast({
      type: "error",
      code: "internal",
      detail: "The reply could not be saved.",
      chat_id: context.chat.id,
    });
    return;
  }
  if (failure) {
    broadcast({
      type: "error",
      code: "upstream_unavailable",
      detail: failure.detail,
      chat_id: context.chat.id,
    });
  }
  broadcast({ type: "chat.message", message: reply });
  broadcast({ type: "chat.done", chat_id: context.chat.id, message: reply });
}
