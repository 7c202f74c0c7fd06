import { z } from "zod";
import { ACTIVE_STATUSES, TERMINAL_STATUSES } from "../db/models";
import type { ServerEvent } from "./events";

const JOB_STATUSES = [...ACTIVE_STATUSES, ...TERMINAL_STATUSES] as [string, ...string[]];
/** Job fields that stay inside the service even if a caller hands over a whole `Job`. */
const INTERNAL_JOB_FIELDS = ["user_id", "upstream_id", "dead_lettered", "updated_at"];

const GenerationUpdated = z.object({
  type: z.literal("generation.updated"),
  job: z.looseObject({ id: z.string().min(1), status: z.enum(JOB_STATUSES) }),
});
const OtherEvent = z.looseObject({
  type: z.enum(["chat.message", "chat.delta", "chat.done", "error", "pong"]),
});

/**
 * Validates an event handed to `UserSession.publish` (an RPC boundary) and strips internal
 * job fields. Throws a `TypeError` naming the problem: a bad event is the caller's bug.
 *
 * @example
 * const frame = publishedFrame({ type: "generation.updated", job }); // JSON text for the sockets
 */
export function publishedFrame(event: unknown): string {
  const generation = GenerationUpdated.safeParse(event);
  if (generation.success) {
    const job = Object.fromEntries(
      Object.entries(generation.data.job).filter(([key]) => !INTERNAL_JOB_FIELDS.includes(key)),
    );
    return JSON.stringify({ type: "generation.updated", job });
  }
  if (OtherEvent.safeParse(event).success) return JSON.stringify(event as ServerEvent);
  const issues = generation.error.issues
    .map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`)
    .join("; ");
  throw new TypeError(`UserSession.publish: not a server event (${issues})`);
}
