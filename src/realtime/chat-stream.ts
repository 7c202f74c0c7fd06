import type { Config } from "../config";
import { MAX_SWIPES } from "../conversation";
import type { FullMessage, Message, MessageStatus, NewMessage } from "../db/models";
import { publicMessage } from "../db/repos/chats";
import type { Repository } from "../db/repository";
import { newId } from "../lib/ids";
import { ReplyStopped } from "./active-replies";
import { promptInputOf, TurnRefused } from "./chat-context";
import type { ChatMemory } from "./chat-memory";
import type { ServerEvent } from "./events";
import type { ModelTurnFrame } from "./frames";
import { LlmError, streamCompletion } from "./llm-client";
import { foldDroppedTurns } from "./long-memory";
import { planPrompt } from "./prompt-builder";
import type { StampRequest } from "./turn-credits";
import { abandonTurn, startTurn, type TurnStart } from "./turn-start";
import type { TurnTiming } from "./turn-timing";

export interface TurnDeps {
  /**
   * A repository for one phase of the turn; the turn closes it when the phase ends. No
   * connection is held while the reply streams (seconds, many turns at once): locally that
   * is PostgreSQL's `max_connections`, on the edge a Durable Object's open connections.
   */
  openRepo(): Repository;
  config: Pick<
    Config,
    | "LLM_BASE_URL"
    | "LLM_API_KEY"
    | "LLM_MODEL"
    | "LLM_CONTEXT_BUDGET_CHARS"
    | "LLM_STALL_TIMEOUT_MS"
    | "LLM_REPLY_TIMEOUT_MS"
    | "LLM_MAX_TOKENS"
  >;
  userId: string;
  /** Sends an event to every socket of the user. */
  broadcast(event: ServerEvent): void;
  /**
   * Sends a frame already serialized (`JSON.stringify` of a `ServerEvent`) to every socket: the
   * deltas, built from a prefix made once per reply. Without it, deltas go through `broadcast`.
   */
  broadcastFrame?(frame: string): void;
  /** Aborted (with a `ReplyStopped`) when the user cancels or deletes the chat. */
  signal: AbortSignal;
  /** The session's memory of its chats (context and recent history). */
  memory: ChatMemory;
  /**
   * Runs work after the reply is stored without delaying it (the session's `ctx.waitUntil`):
   * long memory folds dropped turns into the chat's summary there.
   */
  background?(work: Promise<unknown>): void;
  /**
   * The reply is stored: the chat's slot is released before `chat.done` goes out, so a client
   * acting on `chat.done` (an edit, the next turn) never meets a chat still marked busy.
   */
  finished?(): void;
  /**
   * Where a kept context's stamp comes from: the turn's credit charge, which reads it in the
   * same statement (`turn-credits.ts`). Without it, the stamp is read on its own.
   */
  stamp?: StampRequest;
  /** Benchmarks only: marks the turn's phases (`turn-timing.ts`). */
  timing?: TurnTiming | undefined;
}

function log(level: "warn" | "error", msg: string, fields: Record<string, unknown>) {
  console[level](JSON.stringify({ level, msg, ...fields }));
}

function stopReason(signal: AbortSignal) {
  return signal.reason instanceof ReplyStopped ? signal.reason.reason : null;
}

/**
 * One exchange of a chat: stores the user's message and echoes it (`chat.message`), streams
 * the character's reply (`chat.delta`), then stores the reply and announces it
 * (`chat.message` + `chat.done`) - `complete`, or `cancelled`/`failed` with whatever was
 * streamed. A model failure also sends `error` (`upstream_unavailable`).
 * Throws `TurnRefused` (nothing stored) for a chat that is not the user's.
 *
 * The model is asked while the user's message is being stored, so the write hides behind
 * the model's time to first token; no delta goes out before the message is stored and
 * echoed, and a failed write abandons the request.
 */
export async function runChatTurn(
  deps: TurnDeps,
  frame: ModelTurnFrame,
  start: TurnStart = startTurn(deps, frame),
): Promise<void> {
  // The first phase (context, the user's message) has its own connection, released before
  // the reply streams; storing the reply opens another. Closing twice is harmless.
  try {
    await converse(deps, frame, start);
  } finally {
    await abandonTurn(start);
  }
}

function closeQuietly(repo: Repository): Promise<void> {
  return repo.sql.close().catch(() => {});
}

async function converse(deps: TurnDeps, frame: ModelTurnFrame, start: TurnStart): Promise<void> {
  const { config, userId, broadcast, signal, memory } = deps;
  const early = start.repo;
  const prepared = await start.ready;
  if ("error" in prepared) throw prepared.error;
  const { context, last } = prepared;
  const chatId = context.chat.id;
  deps.timing?.mark("context");
  if (stopReason(signal) === "deleted") {
    broadcast({ type: "error", code: "not_found", detail: "The chat was deleted.", chat_id: chatId });
    return;
  }
  if (frame.type !== "chat.send") {
    if (last?.role !== "assistant") {
      throw new TurnRefused("invalid_request", "The chat does not end with a reply of the character.");
    }
    // A picture in chat is the reply (issue 13): no words to regenerate or continue.
    if (last.attachments.length > 0) {
      throw new TurnRefused(
        "invalid_request",
        "The last reply is a picture; ask for another picture instead.",
      );
    }
    if (frame.type === "chat.regenerate" && last.swipes.length >= MAX_SWIPES) {
      throw new TurnRefused("invalid_request", `A reply has at most ${MAX_SWIPES} alternatives.`);
    }
  }

  const sentAt = Date.now();
  const userMessage: NewMessage | null =
    frame.type === "chat.send"
      ? {
          id: newId("msg", sentAt),
          chat_id: chatId,
          role: "user",
          content: frame.content,
          status: "complete",
          created_at: new Date(sentAt).toISOString(),
        }
      : null;
  const startedAt = Math.max(Date.now(), sentAt + 1);
  const replyId = last ? last.id : newId("msg", startedAt);
  // A regenerate writes a new alternative of the last reply: the model sees what came before it.
  const history =
    frame.type === "chat.regenerate" && context.history.at(-1)?.id === last?.id
      ? context.history.slice(0, -1)
      : context.history;
  const plan = planPrompt({
    ...promptInputOf(context, config.LLM_CONTEXT_BUDGET_CHARS),
    history,
    ...(frame.type === "chat.send" ? { message: frame.content } : {}),
  });

  const upstream = new AbortController();
  const stop = () => upstream.abort(signal.reason);
  if (signal.aborted) stop();
  signal.addEventListener("abort", stop, { once: true });
  const pieces = streamCompletion(
    {
      baseUrl: config.LLM_BASE_URL,
      apiKey: config.LLM_API_KEY,
      model: config.LLM_MODEL,
      messages: plan.messages,
      maxTokens: config.LLM_MAX_TOKENS,
    },
    {
      stallMs: config.LLM_STALL_TIMEOUT_MS,
      totalMs: config.LLM_REPLY_TIMEOUT_MS,
      // The stream aborts the request through this turn's controller: none of its own.
      signal: upstream.signal,
      controller: upstream,
      ...(deps.timing ? { onResponse: () => deps.timing?.mark("headers") } : {}),
    },
  );
  deps.timing?.mark("requested");
  const firstPiece = pieces.next();
  firstPiece.then(
    () => deps.timing?.mark("first_token"),
    () => {},
  );

  let text = "";
  let status: MessageStatus = "complete";
  let failure: LlmError | null = null;
  try {
    if (userMessage) {
      let echoed: Message;
      try {
        echoed = await early.chats.addMessage(userMessage, userId);
        deps.timing?.mark("stored");
      } catch (error) {
        upstream.abort();
        await firstPiece.catch(() => {});
        memory.forget(chatId);
        throw error;
      } finally {
        // Not awaited: the echo and the first delta need not wait for the connection to close
        // (the turn awaits it at its end).
        void closeQuietly(early);
      }
      memory.append(
        chatId,
        { id: userMessage.id, role: "user", content: userMessage.content },
        config.LLM_CONTEXT_BUDGET_CHARS,
      );
      broadcast({
        type: "chat.message",
        message: echoed,
        ...(frame.type === "chat.send" && frame.client_id !== undefined
          ? { client_id: frame.client_id }
          : {}),
      });
    } else {
      void closeQuietly(early);
    }

    try {
      const sendDelta = deltaSender(deps, chatId, replyId);
      for (let step = await firstPiece; !step.done; step = await pieces.next()) {
        text += step.value;
        deps.timing?.mark("first_delta");
        sendDelta(step.value);
      }
      if (signal.aborted) status = "cancelled";
    } catch (error) {
      status = "failed";
      failure =
        error instanceof LlmError ? error : new LlmError("network", "The model could not be reached.");
      log("warn", "chat reply failed", { chat_id: chatId, kind: failure.kind, status: failure.status });
    }
  } finally {
    signal.removeEventListener("abort", stop);
  }

  if (stopReason(signal) === "deleted") {
    memory.forget(chatId);
    broadcast({ type: "error", code: "not_found", detail: "The chat was deleted.", chat_id: chatId });
    return;
  }

  let reply: Message;
  try {
    const late = deps.openRepo();
    try {
      reply = await storeReply(late, userId, frame.type, last, {
        id: replyId,
        chat_id: chatId,
        text,
        status,
        at: new Date(startedAt).toISOString(),
      });
    } finally {
      await closeQuietly(late);
    }
  } catch (error) {
    memory.forget(chatId);
    log("error", "storing a chat reply failed", { chat_id: chatId, error: String(error) });
    broadcast({ type: "error", code: "internal", detail: "The reply could not be saved.", chat_id: chatId });
    return;
  }
  if (last) memory.forget(chatId);
  else {
    memory.append(
      chatId,
      { id: reply.id, role: "assistant", content: text },
      config.LLM_CONTEXT_BUDGET_CHARS,
    );
    // One storage write per turn: a woken session reads this instead of the database.
    memory.save(chatId);
  }
  deps.finished?.();
  if (failure) {
    broadcast({ type: "error", code: "upstream_unavailable", detail: failure.detail, chat_id: chatId });
  }
  broadcast({ type: "chat.message", message: reply });
  broadcast({ type: "chat.done", chat_id: chatId, message: reply });

  // Long memory, after the reply is out: turns this prompt had no room for go into the summary.
  if (plan.history_dropped > 0 && deps.background) {
    deps.background(
      foldDroppedTurns(deps, context, history.slice(0, plan.history_dropped)).catch((error: unknown) => {
        log("warn", "summary fold failed", { chat_id: chatId, error: String(error) });
      }),
    );
  }
}

/**
 * Sends one `chat.delta` per piece. With `broadcastFrame`, the frame is the JSON text
 * `broadcast` would send (the same keys in the same order), built as a prefix made once per
 * reply plus the piece: no event object and no walk over it per delta.
 */
export function deltaSender(deps: TurnDeps, chatId: string, messageId: string): (delta: string) => void {
  const { broadcastFrame } = deps;
  if (!broadcastFrame) {
    return (delta) => deps.broadcast({ type: "chat.delta", chat_id: chatId, message_id: messageId, delta });
  }
  const head = `{"type":"chat.delta","chat_id":${JSON.stringify(chatId)},"message_id":${JSON.stringify(messageId)},"delta":`;
  return (delta) => broadcastFrame(`${head}${JSON.stringify(delta)}}`);
}

interface StreamedReply {
  id: string;
  chat_id: string;
  text: string;
  status: MessageStatus;
  at: string;
}

/**
 * Stores what was streamed: a new reply (`chat.send`), a new selected alternative of the last
 * reply (`chat.regenerate`) or its extension (`chat.continue`). A regenerate or continue that
 * failed before any text keeps the reply as it was: nothing half made.
 */
async function storeReply(
  repo: Repository,
  userId: string,
  kind: ModelTurnFrame["type"],
  last: FullMessage | null,
  streamed: StreamedReply,
): Promise<Message> {
  if (kind === "chat.send" || !last) {
    return repo.chats.addMessage(
      {
        id: streamed.id,
        chat_id: streamed.chat_id,
        role: "assistant",
        content: streamed.text,
        status: streamed.status,
        created_at: streamed.at,
      },
      userId,
    );
  }
  if (streamed.text === "" && streamed.status !== "complete") return publicMessage(last);
  const updated: FullMessage =
    kind === "chat.regenerate"
      ? {
          ...last,
          swipes: [...last.swipes, { content: streamed.text, created_at: streamed.at }],
          swipe_index: last.swipes.length,
          swipe_count: last.swipes.length + 1,
          content: streamed.text,
          status: streamed.status,
          edited_at: null,
        }
      : {
          ...last,
          swipes: last.swipes.map((swipe, i) =>
            i === last.swipe_index ? { ...swipe, content: last.content + streamed.text } : swipe,
          ),
          content: last.content + streamed.text,
          status: streamed.status,
        };
  await repo.chats.saveMessage(updated, userId);
  return publicMessage(updated);
}
