/**
 * Long-term memory: turns that fell out of the prompt budget are folded, oldest first, into a
 * rolling per-chat summary written by the same OpenAI-compatible model that writes replies. It
 * runs in the background; a failure of any kind leaves the previous summary in place and never
 * throws, so a turn never breaks on it.
 */

export interface SummaryTurn {
  /** The message id, so the caller can move `summary_through`. */
  id?: string;
  role: "user" | "assistant" | "system";
  content: string;
}

export interface SummaryLimits {
  /** Ceiling on the whole request's text (instructions, previous summary and turns). */
  maxInputChars: number;
  /** A longer turn is cut (its start kept) before it goes in. */
  maxTurnChars: number;
  /** Ceiling on the summary; also sets `max_tokens` (4 characters a token). */
  maxSummaryChars: number;
}

export const DEFAULT_SUMMARY_LIMITS: SummaryLimits = {
  maxInputChars: 16_000,
  maxTurnChars: 2_000,
  maxSummaryChars: 2_000,
};

export interface SummaryInput {
  previous: string | null;
  /** Turns that fell out of the prompt, oldest first. */
  turns: readonly SummaryTurn[];
  characterName: string;
  userName: string;
  limits?: Partial<SummaryLimits>;
}

export interface SummaryRequest {
  body: {
    model: string;
    messages: { role: "system" | "user"; content: string }[];
    max_tokens: number;
    temperature: number;
    stream: false;
  };
  /** How many of `turns` (from the first) the request folds in; the rest wait for the next run. */
  consumed: number;
}

const CHARS_PER_TOKEN = 4;

function instructions(input: SummaryInput, maxChars: number): string {
  return [
    `You keep the long-term memory of a role-play chat between ${input.userName} and ${input.characterName}.`,
    "Merge the summary so far with the new turns into one updated summary: facts, names, places, promises,",
    "feelings and open threads that matter later, in the past tense. Drop small talk.",
    `Write at most ${Math.floor(maxChars / 6)} words. Answer with the summary only.`,
  ].join(" ");
}

function speaker(turn: SummaryTurn, input: SummaryInput): string {
  if (turn.role === "user") return input.userName;
  return turn.role === "assistant" ? input.characterName : "Narrator";
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The request that folds `turns` into `previous`: as many turns as fit `maxInputChars`, oldest
 * first (always at least one, cut to `maxTurnChars`), non-streaming, `max_tokens` bounded.
 *
 * @example
 * const { body, consumed } = buildSummaryRequest({ previous, turns, characterName, userName }, model);
 */
export function buildSummaryRequest(input: SummaryInput, model: string): SummaryRequest {
  const limits = { ...DEFAULT_SUMMARY_LIMITS, ...input.limits };
  const system = instructions(input, limits.maxSummaryChars);
  const previous = cut(input.previous?.trim() || "(nothing yet)", limits.maxSummaryChars);
  const opening = `Summary so far:\n${previous}\n\nNew turns:\n`;
  const closing = "\n\nWrite the updated summary.";
  let room = limits.maxInputChars - system.length - opening.length - closing.length;
  const lines: string[] = [];
  for (const turn of input.turns) {
    const line = `${speaker(turn, input)}: ${cut(turn.content, limits.maxTurnChars)}`;
    if (lines.length > 0 && line.length + 1 > room) break;
    lines.push(lines.length === 0 ? cut(line, Math.max(1, room)) : line);
    room -= line.length + 1;
  }
  return {
    body: {
      model,
      messages: [
        { role: "system", content: system },
        { role: "user", content: `${opening}${lines.join("\n")}${closing}` },
      ],
      max_tokens: Math.ceil(limits.maxSummaryChars / CHARS_PER_TOKEN),
      temperature: 0.3,
      stream: false,
    },
    consumed: lines.length,
  };
}

/** The summary text of a chat completion response, bounded, or null if there is none. */
export function parseSummaryResponse(
  json: unknown,
  maxChars = DEFAULT_SUMMARY_LIMITS.maxSummaryChars,
): string | null {
  const choices = (json as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return null;
  const content = (choices[0] as { message?: { content?: unknown } } | undefined)?.message?.content;
  if (typeof content !== "string") return null;
  const text = content.trim();
  if (text === "") return null;
  if (text.length <= maxChars) return text;
  const head = text.slice(0, maxChars);
  const lastSpace = head.lastIndexOf(" ");
  return lastSpace > maxChars / 2 ? head.slice(0, lastSpace) : head;
}

export interface SummaryTarget {
  /** OpenAI-compatible base URL, the one replies use (`LLM_BASE_URL`). */
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  /** The whole request may take this long (default 60 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type SummaryOutcome =
  | { updated: true; summary: string; consumed: number; through: string | null }
  | { updated: false; summary: string | null; consumed: 0; through: null; failure: string };

/**
 * Folds the oldest `turns` into the summary. Never throws: on any failure (HTTP, network,
 * timeout, an answer without text) the previous summary comes back with `updated: false`.
 *
 * @example
 * const outcome = await foldIntoSummary({ previous: chat.summary, turns, characterName, userName }, target);
 * if (outcome.updated) await chats.setSummary(chat.id, outcome.summary, outcome.through);
 */
export async function foldIntoSummary(input: SummaryInput, target: SummaryTarget): Promise<SummaryOutcome> {
  const failed = (failure: string): SummaryOutcome => ({
    updated: false,
    summary: input.previous,
    consumed: 0,
    through: null,
    failure,
  });
  if (input.turns.length === 0) return failed("no turns to fold");
  try {
    const { body, consumed } = buildSummaryRequest(input, target.model);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    const response = await (target.fetch ?? fetch)(`${target.baseUrl.replace(/\/+$/, "")}/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(target.timeoutMs ?? 60_000),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return failed(`HTTP ${response.status}`);
    }
    const limits = { ...DEFAULT_SUMMARY_LIMITS, ...input.limits };
    const summary = parseSummaryResponse(await response.json(), limits.maxSummaryChars);
    if (summary === null) return failed("the answer held no summary");
    return { updated: true, summary, consumed, through: input.turns[consumed - 1]?.id ?? null };
  } catch (error) {
    return failed(error instanceof Error ? `${error.name}: ${error.message}` : "unknown failure");
  }
}
