import { z } from "zod";

export const RUNPOD_STATUSES = [
  "IN_QUEUE",
  "IN_PROGRESS",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMED_OUT",
] as const;

const Accepted = z.object({ id: z.string().min(1).max(200), status: z.string().optional() });

/** The body of `/status/{id}` (and of the webhook, which is why the webhook is only a hint). */
export const RunPodStatus = z.object({
  id: z.string().min(1).max(200),
  status: z.enum(RUNPOD_STATUSES),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
});
export type RunPodStatus = z.infer<typeof RunPodStatus>;

type Operation = "run" | "status" | "cancel";

/**
 * A failed RunPod call after the client's own retries. `status` is the HTTP status, 0 when
 * the network failed. Messages name the operation and status, never the key or the URL's
 * secrets.
 */
export class RunPodError extends Error {
  override readonly name = "RunPodError";

  constructor(
    readonly operation: Operation,
    readonly status: number,
    detail: string,
  ) {
    super(
      `RunPod ${operation} failed: ${status === 0 ? "network error" : `HTTP ${status}`}${detail ? `: ${detail}` : ""}`,
    );
  }

  /** Network errors, timeouts, 429 and 5xx may pass; any other 4xx will not. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export interface RunPodClientOptions {
  /** RUNPOD_API_BASE, e.g. `https://api.runpod.ai/v2`. */
  baseUrl: string;
  endpointId: string;
  apiKey: string | undefined;
  /** Tries per call, the first included (default 4). */
  attempts?: number;
  /** Per-try timeout (default 10 s). */
  timeoutMs?: number;
  /** First backoff ceiling, doubled per retry with full jitter (default 250 ms, capped at 4 s). */
  baseDelayMs?: number;
  fetch?: typeof fetch;
}

const MAX_DELAY_MS = 4_000;
const ERROR_DETAIL_CHARS = 200;

/**
 * The RunPod serverless queue API of one endpoint over plain `fetch`: `/run`, `/status/{id}`,
 * `/cancel/{id}`, bearer-authenticated, with bounded retries (exponential backoff with full
 * jitter, honouring `Retry-After`) on 429, 5xx and network errors.
 *
 * @example
 * const runpod = new RunPodClient({ baseUrl: config.RUNPOD_API_BASE, endpointId: "abc", apiKey: config.RUNPOD_API_KEY });
 * const { id } = await runpod.run({ prompt: "a fox" }, { webhook, executionTimeoutMs: 180_000 });
 */
export class RunPodClient {
  readonly #base: string;
  readonly #apiKey: string | undefined;
  readonly #attempts: number;
  readonly #timeoutMs: number;
  readonly #baseDelayMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: RunPodClientOptions) {
    this.#base = `${options.baseUrl.replace(/\/+$/, "")}/${encodeURIComponent(options.endpointId)}`;
    this.#apiKey = options.apiKey;
    this.#attempts = Math.max(1, options.attempts ?? 4);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#baseDelayMs = options.baseDelayMs ?? 250;
    const transport = options.fetch ?? fetch;
    // Called unbound: the Workers runtime rejects `fetch` invoked with a foreign `this`.
    this.#fetch = (input, init) => transport(input, init);
  }

  /** Submits a job; RunPod's `executionTimeout` policy is in milliseconds. */
  async run(
    input: object,
    options: { webhook?: string; executionTimeoutMs: number },
  ): Promise<{ id: string }> {
    const body = {
      input,
      webhook: options.webhook,
      policy: { executionTimeout: options.executionTimeoutMs },
    };
    const response = await this.#send("run", "/run", body);
    return parseBody("run", response, Accepted);
  }

  /** The job's status, or null when RunPod does not know it (never submitted, or expired after 30 min). */
  async status(id: string): Promise<RunPodStatus | null> {
    const response = await this.#send("status", `/status/${encodeURIComponent(id)}`, undefined, true);
    if (response.status === 404) return null;
    return parseBody("status", response, RunPodStatus);
  }

  /** Cancels a job; one RunPod no longer knows is as good as cancelled. */
  async cancel(id: string): Promise<void> {
    const response = await this.#send("cancel", `/cancel/${encodeURIComponent(id)}`, undefined, true);
    await response.body?.cancel();
  }

  async #send(operation: Operation, path: string, body?: object, acceptNotFound = false): Promise<Response> {
    const method = operation === "status" ? "GET" : "POST";
    for (let attempt = 1; ; attempt++) {
      let failure: RunPodError;
      let retryAfterMs = 0;
      try {
        const response = await this.#fetch(`${this.#base}${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${this.#apiKey ?? ""}`,
            ...(body ? { "Content-Type": "application/json" } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        if (response.ok || (acceptNotFound && response.status === 404)) return response;
        failure = new RunPodError(operation, response.status, await errorDetail(response));
        retryAfterMs = retryAfter(response.headers.get("Retry-After"));
      } catch (error) {
        failure = new RunPodError(operation, 0, error instanceof Error ? error.name : "");
      }
      if (!failure.retryable || attempt >= this.#attempts) throw failure;
      const ceiling = Math.min(MAX_DELAY_MS, this.#baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.max(retryAfterMs, Math.random() * ceiling));
    }
  }
}

async function parseBody<S extends z.ZodType>(
  operation: Operation,
  response: Response,
  schema: S,
): Promise<z.output<S>> {
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new RunPodError(operation, 502, "malformed response body");
  return parsed.data;
}

async function errorDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  return text.replace(/\s+/g, " ").trim().slice(0, ERROR_DETAIL_CHARS);
}

/** `Retry-After` in whole seconds, capped so one call never stalls a consumer for long. */
function retryAfter(header: string | null): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_DELAY_MS) : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
