import { z } from "zod";
import { IMAGE_UNIT } from "../../abuse/credits";
import { defineRoute, jsonResponse, routes } from "../../http/route";

const ClientConfig = z.object({
  turnstile_site_key: z.string().nullable(),
  credits: z.object({
    guest_daily: z.number().int(),
    account_daily: z.number().int(),
    image_unit: z.object({ width: z.number().int(), height: z.number().int(), steps: z.number().int() }),
  }),
  limits: z.object({ chat_turns_per_min: z.number().int(), max_active_jobs: z.number().int() }),
});

/** The same for every caller and changes only on a deploy: browsers and the CDN may keep it 5 min. */
const CACHE_CONTROL = "public, max-age=300";

const route = defineRoute({
  method: "get",
  path: "/client-config",
  summary: "What a client needs before signing in: the Turnstile site key, credit allowances, limits",
  tags: ["system"],
  zone: "api",
  responses: { 200: jsonResponse(ClientConfig, "Public configuration (Cache-Control: public, 300 s)") },
});

export const clientConfig = routes().openapi(route, (c) => {
  const { config } = c.var.services;
  const enabled = Boolean(config.TURNSTILE_SECRET_KEY);
  return c.json(
    {
      // A site key without a secret would show a widget whose token nobody checks.
      turnstile_site_key: enabled ? (config.TURNSTILE_SITE_KEY ?? null) : null,
      credits: {
        guest_daily: config.DAILY_CREDITS_GUEST,
        account_daily: config.DAILY_CREDITS_ACCOUNT,
        image_unit: IMAGE_UNIT,
      },
      limits: {
        chat_turns_per_min: config.CHAT_TURNS_PER_MIN,
        max_active_jobs: config.MAX_ACTIVE_JOBS_PER_USER,
      },
    },
    200,
    { "Cache-Control": CACHE_CONTROL },
  );
});
