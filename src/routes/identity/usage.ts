import { z } from "zod";
import { allowances, creditDay, resetsAt } from "../../abuse/credits";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";

const Usage = z.object({
  day: z.string(),
  credits: z.object({ limit: z.number().int(), used: z.number().int(), remaining: z.number().int() }),
  resets_at: z.string(),
});

const route = defineRoute({
  method: "get",
  path: "/me/usage",
  summary: "The caller's credits today (UTC day): allowance, spent, left, and when they reset",
  tags: ["identity"],
  zone: "api",
  auth: "user",
  responses: { 200: jsonResponse(Usage, "Today's credits") },
});

export const usage = routes().openapi(route, async (c) => {
  const { repo, config } = c.var.services;
  const nowMs = Date.now();
  const day = creditDay(nowMs);
  const { limit, used } = await repo.credits.usage(userId(c), day, allowances(config));
  return c.json(
    {
      day,
      credits: { limit, used, remaining: Math.max(0, limit - used) },
      resets_at: resetsAt(nowMs).toISOString(),
    },
    200,
    { "Cache-Control": "no-store" },
  );
});
