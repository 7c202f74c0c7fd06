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
}

export interface StreamLimits {
  /** Longest silence allowed before the first chunk and between chunks. */
  stallMs: number;
  /** Longest the whole reply may take. */
  totalMs: number;
  /** Aborted when the user cancels: the stream ends quietly (no error). */
  signal: AbortSignal;
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

/** Settles with `read`, or rejects as soon as `signal` aborts; `read` never goes unhandled. */
function readOrAbort<T>(read: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    read.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    read.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Streams a chat completion (`stream: true`) and yields the reply's text pieces as they
 * arrive. Bounded in time: `stallMs` of silence or `totalMs` overall end it with an
 * `LlmError`; so do HTTP errors, dropped connections and a stream that stops before
 * `[DONE]`/`finish_reason`. When `signal` aborts, the generator just returns.
 *
 * @example
 * for await (const piece of streamCompletion(request, { stallMs: 20_000, totalMs: 120_000, signal })) send(piece);
 */
export async function* streamCompletion(
  request: CompletionRequest,
  limits: StreamLimits,
): AsyncGenerator<string> {
  const upstream = new AbortController();
  let failure: LlmError | null = null;
  const fail = (error: LlmError) => {
    failure ??= error;
    upstream.abort(error);
  };
  const onCancel = () => upstream.abort(limits.signal.reason);
  if (limits.signal.aborted) return;
  limits.signal.addEventListener("abort", onCancel, { once: true });
  const overall = setTimeout(
    () => fail(new LlmError("timeout", `The model did not finish within ${limits.totalMs} ms.`)),
    limits.totalMs,
  );
  let stall: ReturnType<typeof setTimeout> | undefined;
  const watch = () => {
    clearTimeout(stall);
    stall = setTimeout(
      () => fail(new LlmError("stall", `The model sent nothing for ${limits.stallMs} ms.`)),
      limits.stallMs,
    );
  };
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  try {
    watch();
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      Accept: "text/event-stream",
    };
    if (request.apiKey) headers.Authorization = `Bearer ${request.apiKey}`;
    const response = await readOrAbort(
      fetch(`${request.baseUrl.replace(/\/+$/, "")}/chat/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: request.model, messages: request.messages, stream: true }),
        signal: upstream.signal,
      }),
      upstream.signal,
    );
    if (!response.ok) {
      await response.body?.cancel();
      throw new LlmError("http", `The model answered HTTP ${response.status}.`, response.status);
    }
    if (!response.body) throw new LlmError("protocol", "The model sent no body.");
    reader = response.body.getReader();
    const parser = new SseParser();
    // `[DONE]` ends the reply; a server that closes right after a `finish_reason` chunk is done too.
    const state = { done: false, finishReason: null as string | null };
    const take = function* (events: { data: string }[]) {
      for (const event of events) {
        if (state.done) return;
        const chunk = readChunk(event.data);
        state.done = chunk.done;
        state.finishReason ??= chunk.finishReason;
        if (chunk.text) yield chunk.text;
      }
    };
    while (!state.done) {
      watch();
      const { done, value } = await readOrAbort(reader.read(), upstream.signal);
      if (done) {
        yield* take(parser.end());
        if (state.finishReason !== null) state.done = true;
        break;
      }
      yield* take(parser.push(value));
    }
    if (!state.done)
      throw new LlmError("protocol", "The model's stream ended before the reply was complete.");
  } catch (error) {
    if (failure) throw failure;
    if (limits.signal.aborted) return;
    if (error instanceof LlmError) throw error;
    throw new LlmError("network", "The connection to the model was lost.");
  } finally {
    clearTimeout(overall);
    clearTimeout(stall);
    limits.signal.removeEventListener("abort", onCancel);
    if (!upstream.signal.aborted) upstream.abort();
    reader?.cancel().catch(() => {});
  }
}
