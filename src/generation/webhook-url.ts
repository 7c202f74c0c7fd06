import type { Config } from "../config";
import { constantTimeEqual, hmacHex } from "../lib/crypto";

type WebhookConfig = Pick<Config, "RUNPOD_WEBHOOK_SECRET" | "PUBLIC_BASE_URL">;

/**
 * RunPod holds no signing key, so the URL it calls back is the credential. It carries a
 * per-job token, HMAC(RUNPOD_WEBHOOK_SECRET, job id), rather than the secret itself: a URL
 * that lands in a log or a proxy's history exposes one job's (harmless) callback, never
 * the secret that would open every job's.
 */
function tokenFor(secret: string, jobId: string): Promise<string> {
  return hmacHex(secret, `runpod-webhook:${jobId}`);
}

/**
 * The webhook URL registered with RunPod for a job, or `undefined` when no secret is
 * configured (the job is then finished by polling alone).
 *
 * @example
 * await webhookUrl(config, "gen_01kdx...") // "https://art.example.com/api/v1/webhooks/runpod/gen_01kdx.../9c1f..."
 */
export async function webhookUrl(config: WebhookConfig, jobId: string): Promise<string | undefined> {
  if (!config.RUNPOD_WEBHOOK_SECRET) return undefined;
  const origin = config.PUBLIC_BASE_URL.replace(/\/+$/, "");
  return `${origin}/api/v1/webhooks/runpod/${jobId}/${await tokenFor(config.RUNPOD_WEBHOOK_SECRET, jobId)}`;
}

/** Whether `token` is the job's webhook token, compared in constant time; always false without a secret. */
export async function isWebhookToken(config: WebhookConfig, jobId: string, token: string): Promise<boolean> {
  if (!config.RUNPOD_WEBHOOK_SECRET) return false;
  return constantTimeEqual(await tokenFor(config.RUNPOD_WEBHOOK_SECRET, jobId), token);
}
