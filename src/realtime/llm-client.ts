import type { PromptMessage } from "./prompt-builder";
import { SseParser } from "./sse-parser";

/** Why a completion produced no (complete) reply. `detail` is safe to show to the user. */
export type LlmFailureKind = "http" | "network" | "stall" | "timeout" | "protocol";

export class LlmError extends Error {
  constructor(
    readonly kind: LlmFailureKind,
    readonly detail: string,
    readonly status?: number,
  ) {
    super(detail);
    this.name = "LlmError";
  }
}

export interface CompletionRequest {
  /** OpenAI-compatible base, e.g. `https://api.runpod.ai/v2/<endpoint>/openai/v1`. */
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  messages: PromptMessage[];
  /** Upper bound on the reply's tokens (`LLM_MAX_TOKENS`): what one turn can cost. */
  maxTokens: number;
}

export interface StreamLimits {
  /** Longest silence allowed before the first chunk and between chunks. */
  stallMs: number;
  /** Longest the whole reply may take. */
  totalMs: number;
  /** Aborted when the user cancels: the stream ends quietly (no error). */
  signal: AbortSignal;
  /**
   * The controller `signal` belongs to, when the caller lends it: the request is aborted
   * through it (a stall or timeout aborts it with the `LlmError`), and the stream makes no
   * controller of its own nor follows `signal` with a second one. Each controller, signal and
   * listener is an object of the runtime's that only a full GC frees (bench/ws/RESULTS.md,
   * Session 8), so a reply makes as few as it can.
   */
  controller?: AbortController;
  /** Benchmarks only: called when the response's headers arrive. */
  onResponse?: () => void;
}

interface ChunkPayload {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  error?: { message?: unknown };
}

/** Interprets one `data:` payload of an OpenAI chat completion stream. */
export function readChunk(data: string): { text: string; done: boolean; finishReason: string | null } {
  if (data.trim() === "[DONE]") return { text: "", done: true, finishReason: null };
  let payload: ChunkPayload;
  try {
    payload = JSON.parse(data) as ChunkPayload;
  } catch {
    throw new LlmError("protocol", "The model sent a chunk that is not JSON.");
  }
  if (payload.error) {
    const message =
      typeof payload.error.message === "string" ? payload.error.message.slice(0, 200) : "unknown";
    throw new LlmError("http", `The model reported an error: ${message}`);
  }
  const choice = payload.choices?.[0];
  const content = choice?.delta?.content;
  const finish = choice?.finish_reason;
  return {
    text: typeof content === "string" ? content : "",
    done: false,
    finishReason: typeof finish === "string" ? finish : null,
  };
}

/**
 * Streams a chat completion (`stream: true`) and yields the reply's text pieces as they
 * arrive. Bounded in time: `stallMs` of silence or `totalMs` overall end it with an
 * `LlmError`; so do HTTP errors, dropped connections and a stream that stops before
 * `[DONE]`/`finish_reason`. When `signal` aborts, the generator just returns.
 *
 * Per chunk it only notes the time: one watchdog timer per reply checks both limits, and
 * aborting cancels the reader, so no timer, listener or promise race churns on the hot path.
 *
 * @example
 * for await (const piece of streamCompletion(request, { stallMs: 20_000, totalMs: 120_000, signal })) send(piece);
 */
export async function* streamCompletion(
  request: CompletionRequest,
  limits: StreamLimits,
): AsyncGenerator<string> {
  if (limits.signal.aborted) return;
  const lent = limits.controller !== undefined && limits.controller.signal === limits.signal;
  const upstream = lent && limits.controller ? limits.controller : new AbortController();
  let failure: LlmError | null = null;
  let finished = false;
  let bodyEnded = false;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // Aborting the request rejects a pending fetch; cancelling the reader settles a pending read
  // (as done), so no read is raced against a give-up promise.
  const stop = (reason: unknown) => {
    if (!upstream.signal.aborted) upstream.abort(reason);
  };
  // Whoever aborts (the caller, the watchdog): the read in progress ends.
  const onAbort = () => {
    reader?.cancel().catch(() => {});
  };
  upstream.signal.addEventListener("abort", onAbort, { once: true });
  // A signal of the caller's own: its abort stops the request.
  const onCancel = () => stop(limits.signal.reason);
  if (!lent) limits.signal.addEventListener("abort", onCancel, { once: true });

  const startedAt = Date.now();
  let lastChunkAt = startedAt;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const now = Date.now();
    if (now - startedAt >= limits.totalMs) {
      failure ??= new LlmError("timeout", `The model did not finish within ${limits.totalMs} ms.`);
    } else if (now - lastChunkAt >= limits.stallMs) {
      failure ??= new LlmError("stall", `The model sent nothing for ${limits.stallMs} ms.`);
    } else {
      watchdog = setTimeout(check, Math.min(lastChunkAt + limits.stallMs, startedAt + limits.totalMs) - now);
      return;
    }
    stop(failure);
  };
  watchdog = setTimeout(check, Math.min(limits.stallMs, limits.totalMs));

  try {
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      Accept: "text/event-stream",
    };
    if (request.apiKey) headers.Authorization = `Bearer ${request.apiKey}`;
    const response = await fetch(`${request.baseUrl.replace(/\/+$/, "")}/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        model: request.model,
        messages: request.messages,
        max_tokens: request.maxTokens,
        stream: true,
      }),
      signal: upstream.signal,
    });
    limits.onResponse?.();
    if (!response.ok) {
      await response.body?.cancel();
      throw new LlmError("http", `The model answered HTTP ${response.status}.`, response.status);
    }
    if (!response.body) throw new LlmError("protocol", "The model sent no body.");
    reader = response.body.getReader();
    // Aborted between the headers and the reader: nothing to read.
    if (upstream.signal.aborted) onAbort();
    const parser = new SseParser();
    // `[DONE]` ends the reply; a server that closes right after a `finish_reason` chunk is done too.
    let done = false;
    let finishReason: string | null = null;
    while (!done) {
      const read = await reader.read();
      lastChunkAt = Date.now();
      const events = read.done ? parser.end() : parser.push(read.value);
      for (const event of events) {
        const chunk = readChunk(event.data);
        finishReason ??= chunk.finishReason;
        if (chunk.done) {
          done = true;
          break;
        }
        if (chunk.text) yield chunk.text;
      }
      if (read.done) {
        bodyEnded = true;
        break;
      }
    }
    if (!done && finishReason === null) {
      throw new LlmError("protocol", "The model's stream ended before the reply was complete.");
    }
    finished = true;
  } catch (error) {
    if (failure) throw failure;
    if (limits.signal.aborted) return;
    if (error instanceof LlmError) throw error;
    throw new LlmError("network", "The connection to the model was lost.");
  } finally {
    clearTimeout(watchdog);
    if (!lent) limits.signal.removeEventListener("abort", onCancel);
    // A reply read to its end needs no abort (building the abort error is not free); any
    // other end aborts the request, and the listener (still there) cancels the reader.
    if (!finished) stop(undefined);
    else if (!bodyEnded) reader?.cancel().catch(() => {});
    upstream.signal.removeEventListener("abort", onAbort);
  }
}
