import { z } from "zod";
import { Id, ListQuery } from "../../http/schemas";

const Side = z.number().int().min(256).max(1536).multipleOf(64);

/** `POST /generate` (API.md, "Image generation"); defaults applied, the seed left absent when not given. */
export const GenerateBody = z
  .object({
    prompt: z.string().trim().min(1).max(2000),
    negative_prompt: z.string().max(2000).default(""),
    width: Side.default(1024),
    height: Side.default(1024),
    steps: z.number().int().min(1).max(100).default(30),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
    guidance: z.number().min(0).max(30).default(7),
    character_id: Id.nullable().optional(),
  })
  .strict();
export type GenerateBody = z.output<typeof GenerateBody>;

/** Visible ASCII, as clients send UUIDs and similar tokens. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, "visible ASCII characters only");

export const GenerationParams = z.object({ id: Id });

export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;

export const GenerationListQuery = ListQuery.extend({ status: z.enum(JOB_STATUSES).optional() });

/** The public job (API.md), for the OpenAPI document. */
export const JobSchema = z.object({
  id: z.string(),
  status: z.enum(JOB_STATUSES),
  prompt: z.string(),
  negative_prompt: z.string(),
  params: z.object({
    width: z.number(),
    height: z.number(),
    steps: z.number(),
    seed: z.number(),
    guidance: z.number(),
  }),
  character_id: z.string().nullable(),
  /** The chat a picture was made for (`chat.picture`, `POST /chats/:id/pictures`); null otherwise. */
  chat_id: z.string().nullable(),
  images: z.array(
    z.object({ url: z.string(), width: z.number(), height: z.number(), content_type: z.string() }),
  ),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  attempts: z.number().int(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});
