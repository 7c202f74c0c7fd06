import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { ApiError } from "../../errors/api-error";
import { isWebhookToken } from "../../generation/webhook-url";
import { documentRoute } from "../../http/openapi";
import { Id } from "../../http/schemas";
import { jsonBody } from "../../http/validate";
import type { AppEnv } from "../../types";
import { jobServiceOf } from "../generations/context";

/** The payload repeats `/status`, images included (base64 PNGs of several MB). */
const WEBHOOK_BODY_LIMIT = 48 * 1024 * 1024;

/** Only what is used: which upstream job the call is about. The rest is not trusted. */
const WebhookBody = z.object({ id: z.string().min(1).max(200), status: z.string().max(40) });
const Received = z.object({ received: z.boolean() });

documentRoute({
  method: "post",
  path: "/api/v1/webhooks/runpod/:job_id/:token",
  summary: "RunPod's completion call-back; the token in the URL authenticates it, /status confirms it",
  tag: "webhooks",
  body: WebhookBody,
  responses: { 200: { description: "Received", schema: Received } },
});

export const runpodWebhook = new Hono<AppEnv>().post(
  "/webhooks/runpod/:jobId/:token",
  async (c, next) => {
    // Authenticate before reading a byte of the body.
    const jobId = c.req.param("jobId");
    const valid =
      Id.safeParse(jobId).success &&
      (await isWebhookToken(c.var.services.config, jobId, c.req.param("token")));
    if (!valid) throw new ApiError(401, "unauthorized", "This webhook URL is not valid.");
    await next();
  },
  bodyLimit({
    maxSize: WEBHOOK_BODY_LIMIT,
    onError: () => {
      throw ApiError.tooLarge(WEBHOOK_BODY_LIMIT);
    },
  }),
  async (c) => {
    const hint = await jsonBody(c, WebhookBody);
    const job = await c.var.services.repo.jobs.get(c.req.param("jobId"));
    // A call for an attempt we never recorded (or a job gone since) changes nothing; 200 stops RunPod's retries.
    if (!job || job.upstream_id !== hint.id) return c.json({ received: false });
    await jobServiceOf(c).confirm(job);
    return c.json({ received: true });
  },
);
