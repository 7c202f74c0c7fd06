import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { ApiError } from "../../errors/api-error";
import { isWebhookToken } from "../../generation/webhook-url";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { Id } from "../../http/schemas";
import type { AppEnv } from "../../types";

/** The payload repeats `/status`, images included (base64 PNGs of several MB). */
const WEBHOOK_BODY_LIMIT = 48 * 1024 * 1024;

/** Only what is used: which upstream job the call is about. The rest is not trusted. */
const WebhookBody = z.object({ id: z.string().min(1).max(200), status: z.string().max(40) });
const Received = z.object({ received: z.boolean() });

/** The token in the URL authenticates the call; checked before a byte of the body is read. */
const validWebhookUrl: MiddlewareHandler<AppEnv> = async (c, next) => {
  const jobId = c.req.param("job_id") ?? "";
  const valid =
    Id.safeParse(jobId).success &&
    (await isWebhookToken(c.var.services.config, jobId, c.req.param("token") ?? ""));
  if (!valid) throw new ApiError(401, "unauthorized", "This webhook URL is not valid.");
  await next();
};

/**
 * RunPod's calls come from a few RunPod addresses on behalf of every user: a per-IP limit
 * would refuse them under load. They carry a per-job secret and are confirmed against
 * `/status`, so they are not rate limited.
 */
const route = defineRoute({
  method: "post",
  path: "/webhooks/runpod/{job_id}/{token}",
  summary: "RunPod's completion call-back; the token in the URL authenticates it, /status confirms it",
  tags: ["webhooks"],
  zone: null,
  bodyLimit: WEBHOOK_BODY_LIMIT,
  guards: [validWebhookUrl],
  request: {
    params: z.object({ job_id: Id, token: z.string().min(1) }),
    body: jsonRequest(WebhookBody),
  },
  responses: { 200: jsonResponse(Received, "Received") },
});

export const runpodWebhook = routes().openapi(route, async (c) => {
  const hint = c.req.valid("json");
  const { repo, jobs } = c.var.services;
  const job = await repo.jobs.get(c.req.valid("param").job_id);
  // A call for an attempt we never recorded (or a job gone since) changes nothing; 200 stops RunPod's retries.
  if (!job || job.upstream_id !== hint.id) return c.json({ received: false }, 200);
  await jobs.confirm(job);
  return c.json({ received: true }, 200);
});
