import { z } from "zod";
import { ApiError } from "../errors/api-error";
import type { ConversationMessage, ImageAttachment, MessageRole, MessageStatus, Swipe } from "./message";
import { MAX_SWIPES } from "./swipes";

/** The contract's limits on an imported chat file. */
export const ST_CHAT_MAX_BYTES = 8 * 1024 * 1024;
export const ST_CHAT_MAX_MESSAGES = 10_000;

/** Where this API keeps, inside SillyTavern's free-form objects, what SillyTavern has no field for. */
const OUR_KEY = "edge_art";

/** A chat as exported or imported, before any table. Imported messages get their ids later. */
export interface ChatFile {
  user_name: string;
  character_name: string;
  created_at: string;
  title: string | null;
  summary: string | null;
  messages: Omit<ConversationMessage, "id">[];
}

export type ImportedChat = ChatFile;

/**
 * Writes a chat as SillyTavern saves one (`public/chats/<character>/<chat>.jsonl`): a header
 * line `{user_name, character_name, create_date, chat_metadata}`, then one line per message
 * `{name, is_user, is_system, send_date, mes, extra, swipes, swipe_id, swipe_info}`. Replies
 * always carry `swipes` (SillyTavern does after the first generation); user lines do not.
 * Times are ISO-8601, which SillyTavern reads. What SillyTavern has no field for (the chat's
 * title and summary, `edited_at`, a reply's `status` other than complete, image attachments
 * with their job) rides under `edge_art`
 * keys of `chat_metadata` and `extra`, which SillyTavern keeps; the image also goes in
 * `extra.image`, so SillyTavern shows it.
 *
 * @example
 * return new Response(exportStChat(chat), { headers: { "content-type": "application/jsonl" } });
 */
export function exportStChat(chat: ChatFile): string {
  const header = {
    user_name: chat.user_name,
    character_name: chat.character_name,
    create_date: chat.created_at,
    chat_metadata: { [OUR_KEY]: { title: chat.title, summary: chat.summary } },
  };
  const lines = chat.messages.map((message) => JSON.stringify(stLineOf(message, chat)));
  return `${[JSON.stringify(header), ...lines].join("\n")}\n`;
}

function stLineOf(message: ChatFile["messages"][number], chat: ChatFile): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  const ours: Record<string, unknown> = {};
  if (message.edited_at) ours.edited_at = message.edited_at;
  if (message.status !== "complete") ours.status = message.status;
  if (message.attachments.length > 0) {
    ours.attachments = message.attachments;
    extra.image = message.attachments[0]?.url;
  }
  if (Object.keys(ours).length > 0) extra[OUR_KEY] = ours;
  const line: Record<string, unknown> = {
    name: message.role === "user" ? chat.user_name : chat.character_name,
    is_user: message.role === "user",
    is_system: false,
    send_date: message.created_at,
    mes: message.content,
    extra,
  };
  if (message.role === "assistant") {
    line.swipes = message.swipes.map((swipe) => swipe.content);
    line.swipe_id = message.swipe_index;
    line.swipe_info = message.swipes.map((swipe) => ({ send_date: swipe.created_at, extra: {} }));
  }
  return line;
}

const headerSchema = z.looseObject({
  user_name: z.string().optional(),
  character_name: z.string().optional(),
  create_date: z.union([z.string(), z.number()]).optional(),
  chat_metadata: z.record(z.string(), z.unknown()).optional(),
});

const attachmentSchema = z.object({
  kind: z.literal("image"),
  job_id: z.string(),
  url: z.string(),
  width: z.number(),
  height: z.number(),
});

const lineSchema = z.looseObject({
  name: z.string().optional(),
  is_user: z.boolean(),
  is_system: z.boolean().optional(),
  send_date: z.union([z.string(), z.number()]).optional(),
  mes: z.string(),
  extra: z.record(z.string(), z.unknown()).optional(),
  swipes: z.array(z.string()).optional(),
  swipe_id: z.number().int().min(0).optional(),
  swipe_info: z.array(z.unknown()).optional(),
});

const oursSchema = z
  .object({
    edited_at: z.string().optional(),
    status: z.enum(["complete", "cancelled", "failed"]).optional(),
    attachments: z.array(attachmentSchema).optional(),
    title: z.string().nullable().optional(),
    summary: z.string().nullable().optional(),
  })
  .catch({});

const MONTHS = "january february march april may june july august september october november december".split(
  " ",
);

/**
 * A SillyTavern time as ISO-8601, or null. SillyTavern has written epoch milliseconds, ISO
 * strings, "June 5, 2023 12:34am" (`LL LT`) and "2023-6-5 @12h 34m 56s 789ms" over the years.
 */
export function stDateToIso(value: string | number | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value === "number") return isoOrNull(new Date(value));
  const text = value.trim();
  const human = /^([A-Za-z]+) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}) ?(am|pm)$/i.exec(text);
  if (human) {
    const month = MONTHS.indexOf((human[1] as string).toLowerCase());
    if (month < 0) return null;
    const hour = (Number(human[4]) % 12) + ((human[6] as string).toLowerCase() === "pm" ? 12 : 0);
    return isoOrNull(new Date(Date.UTC(Number(human[3]), month, Number(human[2]), hour, Number(human[5]))));
  }
  const humanized =
    /^(\d{4})-(\d{1,2})-(\d{1,2}) ?@(\d{1,2})h ?(\d{1,2})m ?(\d{1,2})s(?: ?(\d{1,3})ms)?$/.exec(text);
  if (humanized) {
    const [y, mo, d, h, mi, s, ms] = humanized.slice(1).map((part) => Number(part ?? 0));
    return isoOrNull(new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s, ms)));
  }
  if (/^\d+$/.test(text)) return isoOrNull(new Date(Number(text)));
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  return isoOrNull(new Date(text));
}

function isoOrNull(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function issueOf(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "is not valid";
  const path = issue.path.join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

function parseLine(text: string, lineNo: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw ApiError.invalid(`line ${lineNo}: not valid JSON.`);
  }
}

/**
 * Keeps at most `MAX_SWIPES` alternatives, always the selected one: the first ones, with the
 * selected one in place of the last kept when it lies beyond them.
 */
function boundedSwipes(swipes: Swipe[], index: number): { swipes: Swipe[]; index: number } {
  if (swipes.length <= MAX_SWIPES) return { swipes, index };
  if (index < MAX_SWIPES) return { swipes: swipes.slice(0, MAX_SWIPES), index };
  return { swipes: [...swipes.slice(0, MAX_SWIPES - 1), swipes[index] as Swipe], index: MAX_SWIPES - 1 };
}

/**
 * Reads a SillyTavern chat file (JSONL) into a neutral chat. Blank lines are skipped; line
 * numbers in errors count every line, from 1.
 *
 * @param now The time for messages without a readable `send_date` and none before them.
 * @throws {ApiError} 413 over 8 MiB; 400 `line N: ...` for the first broken line, or for more
 *   than 10 000 messages.
 */
export function importStChat(file: string | Uint8Array, now: string): ImportedChat {
  const size = typeof file === "string" ? new TextEncoder().encode(file).byteLength : file.byteLength;
  if (size > ST_CHAT_MAX_BYTES) throw ApiError.tooLarge(ST_CHAT_MAX_BYTES);
  let text: string;
  try {
    text =
      typeof file === "string"
        ? file
        : new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(file);
  } catch {
    throw ApiError.invalid("The chat file is not UTF-8 text.");
  }
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  const numbered = lines
    .map((line, i) => ({ text: line.replace(/\r$/, ""), no: i + 1 }))
    .filter((line) => line.text.trim() !== "");
  const [first, ...rest] = numbered;
  if (!first)
    throw ApiError.invalid("line 1: the file is empty; a SillyTavern chat starts with a header line.");
  if (rest.length > ST_CHAT_MAX_MESSAGES) {
    throw ApiError.invalid(
      `line ${rest[ST_CHAT_MAX_MESSAGES]?.no}: more than ${ST_CHAT_MAX_MESSAGES} messages.`,
    );
  }

  const headerValue = parseLine(first.text, first.no);
  const header = headerSchema.safeParse(headerValue);
  if (!header.success) throw ApiError.invalid(`line ${first.no}: ${issueOf(header.error)}`);
  if ("mes" in header.data) {
    throw ApiError.invalid(`line ${first.no}: expected the chat header, found a message.`);
  }
  const meta = oursSchema.parse(header.data.chat_metadata?.[OUR_KEY] ?? {});
  const createdAt = stDateToIso(header.data.create_date);

  let previous = createdAt ?? now;
  const messages = rest.map(({ text: lineText, no }) => {
    const parsed = lineSchema.safeParse(parseLine(lineText, no));
    if (!parsed.success) throw ApiError.invalid(`line ${no}: ${issueOf(parsed.error)}`);
    const message = messageOf(parsed.data, no, previous);
    previous = message.created_at;
    return message;
  });

  return {
    user_name: header.data.user_name ?? "User",
    character_name: header.data.character_name ?? "",
    created_at: createdAt ?? messages[0]?.created_at ?? now,
    title: meta.title ?? null,
    summary: meta.summary ?? null,
    messages,
  };
}

function messageOf(
  line: z.infer<typeof lineSchema>,
  no: number,
  previous: string,
): ChatFile["messages"][number] {
  // `is_system` marks a message SillyTavern hides from the prompt (or a narrator line); who
  // wrote it is still `is_user`, and this API has no hidden messages, so it is ignored.
  const role: MessageRole = line.is_user ? "user" : "assistant";
  const createdAt = stDateToIso(line.send_date) ?? previous;
  const ours = oursSchema.parse(line.extra?.[OUR_KEY] ?? {});
  let swipes: Swipe[] = [{ content: line.mes, created_at: createdAt }];
  let index = 0;
  if (role === "assistant" && line.swipes && line.swipes.length > 0) {
    index = line.swipe_id ?? 0;
    if (index >= line.swipes.length) {
      throw ApiError.invalid(
        `line ${no}: swipe_id ${index} is out of range of ${line.swipes.length} swipes.`,
      );
    }
    swipes = line.swipes.map((content, i) => ({
      // SillyTavern keeps `mes` and the selected swipe in step; when they differ, `mes` is what showed.
      content: i === index ? line.mes : content,
      created_at: swipeDate(line.swipe_info?.[i]) ?? createdAt,
    }));
    ({ swipes, index } = boundedSwipes(swipes, index));
  }
  return {
    role,
    content: line.mes,
    swipes,
    swipe_index: index,
    created_at: createdAt,
    edited_at: ours.edited_at ?? null,
    attachments: (ours.attachments ?? []) as ImageAttachment[],
    status: (ours.status ?? "complete") as MessageStatus,
  };
}

function swipeDate(info: unknown): string | null {
  if (typeof info !== "object" || info === null) return null;
  const sendDate = (info as { send_date?: unknown }).send_date;
  return typeof sendDate === "string" || typeof sendDate === "number" ? stDateToIso(sendDate) : null;
}
