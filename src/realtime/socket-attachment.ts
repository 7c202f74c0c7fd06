import { z } from "zod";

/** Per-socket state kept with `serializeAttachment`, so it survives hibernation (<= 2 KiB). */
export const SocketAttachment = z.object({
  user_id: z.string().min(1),
  connected_at: z.string(),
  /** The session of the token that opened the socket (absent for a legacy guest token), so logout can close it. */
  sid: z.string().min(1).optional(),
});
export type SocketAttachment = z.infer<typeof SocketAttachment>;

/** The socket's attachment, or null when it has none (or one this code did not write). */
export function readAttachment(socket: WebSocket): SocketAttachment | null {
  const parsed = SocketAttachment.safeParse(socket.deserializeAttachment());
  return parsed.success ? parsed.data : null;
}
