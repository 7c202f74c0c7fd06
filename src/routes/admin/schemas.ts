import { z } from "zod";
import { ListQuery } from "../../http/schemas";
import { JobSchema } from "../generations/schemas";

const Counts = z.object({
  queued: z.number(),
  running: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  cancelled: z.number(),
});

/** `GET /api/v1/admin/stats` (src/ops/admin/stats.ts builds it). */
export const AdminStatsSchema = z.object({
  generated_at: z.string(),
  jobs: z
    .object({
      by_status: Counts,
      waiting_in_queue: z.number().int(),
      oldest_queued_age_s: z.number().int().nullable(),
      dead_lettered: z.number().int(),
    })
    .nullable(),
  sockets: z.object({ open: z.number().int(), users: z.number().int() }).nullable(),
  rate_limit: z
    .object({ rejections: z.object({ api: z.number(), strict: z.number() }), lag_s: z.number() })
    .nullable(),
  credits: z
    .object({
      by_day: z.array(z.object({ day: z.string(), credits: z.number().int(), users: z.number().int() })),
      top_spenders: z.array(z.object({ user_id: z.string(), used: z.number().int() })),
    })
    .nullable(),
  database: z.object({
    backend: z.enum(["d1", "postgres"]),
    ok: z.boolean(),
    latency_ms: z.number().nullable(),
  }),
  unavailable: z.array(z.string()),
});

/** A job as operators see it. */
export const AdminJobSchema = JobSchema.extend({
  user_id: z.string(),
  upstream_id: z.string().nullable(),
  dead_lettered: z.boolean(),
  updated_at: z.string(),
});

export const DeadLetterQuery = ListQuery;
