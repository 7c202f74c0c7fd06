/** Global knobs of the emulator; change them at runtime with `POST /_emulator/config`. */
export interface EmulatorConfig {
  /** GPU time of one image job, ms (default 300). */
  gpuTimeMs: number;
  /** Random extra GPU time, 0..n ms (default 0). */
  gpuJitterMs: number;
  /** Time a job spends IN_QUEUE before IN_PROGRESS, ms (default 20). */
  queueDelayMs: number;
  /** Fraction 0..1 of submits that meet a random fault: 429 or 503 once, FAILED, or webhook dropped (default 0). */
  faultRate: number;
  /** Delay between streamed chat tokens, ms (default 20). */
  tokenDelayMs: number;
  /** Chat time to first token, ms (default 50). */
  firstTokenMs: number;
  /** Webhook delivery for finished jobs (default "send"). */
  webhook: "send" | "never" | "twice";
  /** Pause before each of the 2 retries of a webhook that got no 2xx, ms (default 10000). */
  webhookRetryMs: number;
  /** How long finished jobs stay readable, ms (default 30 min). */
  retentionMs: number;
  /** When set, the only bearer key accepted; otherwise any non-empty key (default null). */
  apiKey: string | null;
  /** Origin used in `s3_url` outputs; defaults to the Host the job was submitted to (default null). */
  publicUrl: string | null;
  /** Model id listed by `/openai/v1/models` (default "emulator-chat"). */
  chatModel: string;
}

export interface StartEmulatorOptions extends Partial<EmulatorConfig> {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind (default "127.0.0.1"). */
  host?: string;
}

export interface RunningEmulator {
  /** Origin, e.g. `http://127.0.0.1:8788`; RunPod's API base is `${url}/v2`, the chat base `${url}/openai/v1`. */
  url: string;
  port: number;
  /** Stops listening, drops open connections and cancels every timer. */
  close(): Promise<void>;
}

/** Per-request behaviour, written into the prompt (or last user message) as `[[emu:key=value]]`. */
export interface EmulatorDirectives {
  submit?: `${429 | 500 | 502 | 503}x${number}`;
  job?: "fail" | "hang";
  webhook?: "send" | "never" | "twice";
  gpu?: number;
  format?: "sdxl" | "comfyui" | "comfyui_s3";
  chat?: "error" | "midfail" | "stall";
  tokens?: number;
}

/** Starts the RunPod emulator (RunPod serverless API, OpenAI-compatible chat, `/_emulator` controls). */
export function startEmulator(options?: StartEmulatorOptions): Promise<RunningEmulator>;

/**
 * Builds a directive tag to put into a prompt.
 * @example `a cat ${directive({ job: "fail" })}` // "a cat [[emu:job=fail]]"
 */
export function directive(values: EmulatorDirectives): string;
