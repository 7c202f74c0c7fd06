import { z } from "zod";
import { ApiError } from "./errors/api-error";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
const optionalUrl = optionalString.pipe(z.url().optional());
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const positiveNumber = (fallback: number) => z.coerce.number().positive().default(fallback);

/** Every configuration value the Worker reads, validated once per isolate (DESIGN.md, "Configuration"). */
export const ConfigSchema = z
  .object({
    PUBLIC_BASE_URL: z.url().default("http://127.0.0.1:8787"),
    JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters"),
    ADMIN_TOKEN: optionalString,
    DB_BACKEND: z.enum(["d1", "postgres"]).default("d1"),
    STORAGE_BACKEND: z.enum(["r2", "s3"]).default("r2"),
    S3_ENDPOINT: optionalUrl,
    S3_REGION: optionalString,
    S3_BUCKET: optionalString,
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,
    IMAGE_CDN_BASE_URL: optionalUrl,
    RUNPOD_API_BASE: z.url().default("https://api.runpod.ai/v2"),
    RUNPOD_API_KEY: optionalString,
    RUNPOD_IMAGE_ENDPOINT_ID: z.string().min(1).default("emulator-sdxl"),
    RUNPOD_INPUT_FORMAT: z.enum(["sdxl", "comfyui"]).default("sdxl"),
    RUNPOD_WEBHOOK_SECRET: optionalString,
    LLM_BASE_URL: z.url().default("http://127.0.0.1:8788/openai/v1"),
    LLM_API_KEY: optionalString,
    LLM_MODEL: z.string().min(1).default("emulator-chat"),
    LLM_CONTEXT_BUDGET_CHARS: positiveInt(12_000),
    LLM_STALL_TIMEOUT_MS: positiveInt(20_000),
    /** Overall cap on one streamed chat reply, however steadily it trickles. */
    LLM_REPLY_TIMEOUT_MS: positiveInt(120_000),
    GENERATION_TIMEOUT_S: positiveInt(180),
    /** Delayed `/status` polls back off from this to GENERATION_POLL_MAX_S (2, 4, 8, 16, 30, 30, ... s). */
    GENERATION_POLL_INITIAL_S: positiveInt(2),
    GENERATION_POLL_MAX_S: positiveInt(30),
    /** Derives the unguessable part of image keys; JWT_SECRET when unset. Changing it only affects new images. */
    IMAGE_KEY_SECRET: optionalString,
    MAX_ACTIVE_JOBS_PER_USER: positiveInt(4),
    RATE_API_PER_S: positiveNumber(20),
    RATE_API_BURST: positiveInt(40),
    RATE_STRICT_PER_S: positiveNumber(5),
    RATE_STRICT_BURST: positiveInt(10),
    RATE_LIMIT_FAILURE_MODE: z.enum(["open", "closed"]).default("open"),
    /** Zone `api`: tokens a shard may lease to an isolate per client (src/rate-limit/isolate-lease.ts); 0 turns leases off. */
    RATE_API_LEASE: z.coerce.number().int().min(0).max(1000).default(8),
    /** The header holding the client address; only a proxy that overwrites it may be trusted (src/rate-limit/README.md). */
    CLIENT_IP_HEADER: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9-]{1,64}$/, "CLIENT_IP_HEADER must be a header name")
      .default("CF-Connecting-IP"),
    SENTRY_DSN: optionalUrl,
    // Spend and abuse limits (API.md, "Spend and abuse limits").
    /** Zone `identity`: new identities per client IP per hour (a bucket refilling over an hour). */
    GUEST_PER_IP_PER_HOUR: positiveInt(20),
    /** Turnstile on guest creation; off while the secret is unset. */
    TURNSTILE_SECRET_KEY: optionalString,
    TURNSTILE_SITE_KEY: optionalString,
    TURNSTILE_VERIFY_URL: z.url().default("https://challenges.cloudflare.com/turnstile/v0/siteverify"),
    DAILY_CREDITS_GUEST: positiveInt(100),
    DAILY_CREDITS_ACCOUNT: positiveInt(500),
    CHAT_TURNS_PER_MIN: positiveInt(20),
    LLM_MAX_TOKENS: positiveInt(600),
    MAX_CHARACTERS_PER_USER: positiveInt(200),
    MAX_CHATS_PER_USER: positiveInt(1000),
    GUEST_RETENTION_DAYS: positiveInt(30),
    // Accounts and sessions (API.md, "Accounts and sessions").
    ACCESS_TOKEN_TTL_S: positiveInt(900),
    /** WebAuthn relying party id; the host of PUBLIC_BASE_URL when unset. */
    WEBAUTHN_RP_ID: optionalString,
  })
  .superRefine((cfg, ctx) => {
    if (cfg.STORAGE_BACKEND !== "s3") return;
    for (const key of [
      "S3_ENDPOINT",
      "S3_REGION",
      "S3_BUCKET",
      "S3_ACCESS_KEY_ID",
      "S3_SECRET_ACCESS_KEY",
    ] as const) {
      if (!cfg[key])
        ctx.addIssue({ code: "custom", path: [key], message: `${key} is required when STORAGE_BACKEND=s3` });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

const cache = new WeakMap<object, Config>();

/**
 * Parses the bindings' string values into a typed config; cached per `env` object so the
 * hot path pays for validation once per isolate. A broken configuration is a 500 whose
 * detail names the variable (never its value).
 */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new ApiError(500, "internal", `The service is misconfigured (${names}).`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
