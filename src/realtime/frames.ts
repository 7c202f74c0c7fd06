import { z } from "zod";
import { Id } from "../http/schemas";

/** API.md: "Frames are JSON text, at most 16 KiB each". */
export const MAX_FRAME_BYTES = 16 * 1024;
/** API.md: a chat message is 1..4000 characters. */
export const MAX_CONTENT_CHARS = 4000;

const ChatSend = z.object({
  type: z.literal("chat.send"),
  chat_id: Id,
  content: z
    .string()
    .min(1)
    .max(MAX_CONTENT_CHARS)
    .refine((text) => text.trim() !== "", "must not be blank"),
  client_id: z.string().min(1).max(128).optional(),
});

const ChatCancel = z.object({ type: z.literal("chat.cancel"), chat_id: Id });

const Ping = z.object({ type: z.literal("ping") });

/** A new alternative of the last reply (API.md, "Conversation depth"). */
const ChatRegenerate = z.object({ type: z.literal("chat.regenerate"), chat_id: Id });
/** The last reply, extended. */
const ChatContinue = z.object({ type: z.literal("chat.continue"), chat_id: Id });
/** Selects an alternative of the last reply. */
const ChatSwipe = z.object({
  type: z.literal("chat.swipe"),
  chat_id: Id,
  message_id: Id,
  index: z.number().int().min(0),
});
/** The character sends a picture. */
const ChatPicture = z.object({
  type: z.literal("chat.picture"),
  chat_id: Id,
  prompt: z.string().trim().min(1).max(1000).optional(),
});

/** Client -> server frames of the real-time session (API.md). Unknown extra fields are ignored. */
export const ClientFrame = z.discriminatedUnion("type", [
  ChatSend,
  ChatCancel,
  Ping,
  ChatRegenerate,
  ChatContinue,
  ChatSwipe,
  ChatPicture,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ChatSendFrame = z.infer<typeof ChatSend>;
export type ChatSwipeFrame = z.infer<typeof ChatSwipe>;
export type ChatPictureFrame = z.infer<typeof ChatPicture>;
/** The frames answered by the model: each is a chat turn (turn limiter, one reply per chat). */
export type ModelTurnFrame = ChatSendFrame | z.infer<typeof ChatRegenerate> | z.infer<typeof ChatContinue>;
const FRAME_TYPES: readonly string[] = [
  "chat.send",
  "chat.cancel",
  "ping",
  "chat.regenerate",
  "chat.continue",
  "chat.swipe",
  "chat.picture",
];

/** Why a frame was refused; sent back as an `error` frame on the socket it came from. */
export interface FrameProblem {
  code: "invalid_request" | "payload_too_large";
  detail: string;
  chat_id?: string;
}

const encoder = new TextEncoder();

function byteLength(text: string): number {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: skip the encode when the answer is obvious.
  if (text.length * 3 <= MAX_FRAME_BYTES) return text.length;
  if (text.length > MAX_FRAME_BYTES) return text.length;
  return encoder.encode(text).byteLength;
}

/** The frame's `chat_id` when it names one well-formed id, so the error can point at that chat. */
function chatIdOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const id = (value as { chat_id?: unknown }).chat_id;
  return Id.safeParse(id).success ? (id as string) : undefined;
}

/**
 * Validates one incoming WebSocket message: size first (before any parsing), then JSON,
 * then the frame schema.
 *
 * @example
 * const result = parseClientFrame('{"type":"ping"}'); // { frame: { type: "ping" } }
 */
export function parseClientFrame(
  raw: string | ArrayBuffer,
): { frame: ClientFrame } | { problem: FrameProblem } {
  const size = typeof raw === "string" ? byteLength(raw) : raw.byteLength;
  if (size > MAX_FRAME_BYTES) {
    return { problem: { code: "payload_too_large", detail: `Frames are at most ${MAX_FRAME_BYTES} bytes.` } };
  }
  if (typeof raw !== "string") {
    return { problem: { code: "invalid_request", detail: "Frames are JSON text, not binary." } };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { problem: { code: "invalid_request", detail: "The frame is not valid JSON." } };
  }
  const parsed = ClientFrame.safeParse(value);
  if (parsed.success) return { frame: parsed.data };
  const chatId = chatIdOf(value);
  const type = typeof value === "object" && value !== null ? (value as { type?: unknown }).type : undefined;
  if (!FRAME_TYPES.includes(type as string)) {
    return {
      problem: {
        code: "invalid_request",
        detail: `Unknown frame type; send one of ${FRAME_TYPES.join(", ")}.`,
        ...(chatId ? { chat_id: chatId } : {}),
      },
    };
  }
  const detail = parsed.error.issues
    .map((issue) => `${issue.path.map(String).join(".") || "(frame)"}: ${issue.message}`)
    .join("; ");
  return {
    problem: {
      code: "invalid_request",
      detail: `The frame is invalid (${detail}).`,
      ...(chatId ? { chat_id: chatId } : {}),
    },
  };
}
