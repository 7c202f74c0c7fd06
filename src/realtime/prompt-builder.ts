import { activateLore, type CharacterBook } from "../conversation";
import type { Character, MessageRole } from "../db/models";
import { applyMacros, type MacroNames } from "./macros";

/** One message of an OpenAI-compatible `/chat/completions` request. */
export interface PromptMessage {
  role: "system" | MessageRole;
  content: string;
}

/** A past message of the chat (the selected alternative, as edited). */
export interface HistoryMessage {
  role: MessageRole;
  content: string;
  /** The stored message's id (long memory folds by it); absent in hand-made histories. */
  id?: string;
}

export type PromptCharacter = Pick<
  Character,
  "name" | "system_prompt" | "description" | "personality" | "scenario" | "example_dialogue"
>;

export interface PromptInput {
  character: PromptCharacter;
  userName: string;
  /** The chat so far, oldest first, without the new message. */
  history: readonly HistoryMessage[];
  /**
   * The user's new message: the first thing the budget pays for. Absent for a regenerate,
   * a continue and the `GET /chats/:id/context` preview (the history ends the prompt).
   */
  message?: string;
  /** Characters of message content the whole prompt may hold (`LLM_CONTEXT_BUDGET_CHARS`). */
  budgetChars: number;
  /** The user's persona description (`users.persona_description`); `userName` is its name. */
  personaDescription?: string | null;
  /** The character's lorebook (Character Card V2 `character_book`). */
  characterBook?: CharacterBook | null;
  /** The chat's rolling summary of turns that fell out of the budget. */
  summary?: string | null;
}

/** A prompt and what went into it (`GET /chats/:id/context` shows this). */
export interface PromptPlan {
  messages: PromptMessage[];
  /** Lore entries that went in, by insertion order. */
  lore: { index: number; name: string | null }[];
  summary_used: boolean;
  /** Characters of all contents. */
  chars: number;
  /**
   * How many of `history` (from the oldest) did not fit: the turns long memory folds into
   * the summary.
   */
  history_dropped: number;
}

/** What a frontend sends when the card has no `system_prompt` (and what `{{original}}` stands for). */
export const DEFAULT_SYSTEM_PROMPT =
  "Write {{char}}'s next reply in a fictional chat between {{char}} and {{user}}. Stay in character, write only {{char}}'s words and actions, and never speak for {{user}}.";

/** The parts of the system message. */
export type SystemPart =
  | "system"
  | "description"
  | "personality"
  | "scenario"
  | "examples"
  | "persona"
  | "lore_before"
  | "lore_after"
  | "summary";

/**
 * Who gets the budget first, when it runs short (API.md: the whole prompt is at most
 * `LLM_CONTEXT_BUDGET_CHARS` characters, whatever the card):
 * 1. the new user message (cut only when it alone is over the budget),
 * 2. the system prompt (the card's, or the default),
 * 3. description, 4. personality, 5. scenario (each cut to the room left),
 * 6. the persona description (cut to the room left),
 * 7. lore: the entries that fired, within the book's `token_budget` and the room left,
 *    the lowest `priority` dropped first (`activateLore`),
 * 8. the chat's summary (cut to the room left): it stands for turns that are no longer sent,
 *    so it outranks the history it replaces,
 * 9. history, newest first, whole messages, stopping at the first that does not fit,
 * 10. example dialogue, whole or not at all (as SillyTavern pushes examples out first).
 * So, as the budget shrinks, what goes first is: examples, then the oldest history, then the
 * summary, then lore (lowest priority first), then persona, scenario, personality, description.
 */
export const PROMPT_PRIORITY: readonly (SystemPart | "message" | "history" | "lore")[] = [
  "message",
  "system",
  "description",
  "personality",
  "scenario",
  "persona",
  "lore",
  "summary",
  "history",
  "examples",
];

/**
 * Where the kept parts appear in the system message (its reading order, not its priority):
 * lore at `before_char` ahead of the card's description, `after_char` after the scenario
 * (SillyTavern's world info positions), the summary last, right ahead of the history.
 */
const SYSTEM_ORDER: readonly SystemPart[] = [
  "system",
  "lore_before",
  "description",
  "personality",
  "scenario",
  "lore_after",
  "persona",
  "examples",
  "summary",
];

const SEPARATOR = "\n\n";
/** Ends a part that was cut short, so the model can tell. */
const CUT_MARK = "…";
const ORIGINAL = /\{\{original\}\}/i;
const START = /^[ \t]*<START>[ \t]*$/gim;

/**
 * A part of the system message: `render(limit)` expands its macros into at most `limit`
 * characters (never more work than that); `fit` says whether a cut copy is worth sending.
 */
interface Section {
  render(limit: number): string;
  fit: "cut" | "whole";
}

function labelled(
  label: string,
  text: string,
  names: MacroNames,
  fit: Section["fit"] = "cut",
): Section | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  return { render: (limit) => applyMacros(label + trimmed, names, limit), fit };
}

/** The card's system prompt with `{{original}}` standing for the default, bounded like the rest. */
function systemPrompt(raw: string, names: MacroNames): Section {
  if (raw.trim() === "")
    return { render: (limit) => applyMacros(DEFAULT_SYSTEM_PROMPT, names, limit), fit: "cut" };
  return {
    render(limit) {
      const original = applyMacros(DEFAULT_SYSTEM_PROMPT, names);
      let out = "";
      let rest = raw;
      for (;;) {
        const match = ORIGINAL.exec(rest);
        const piece = match ? rest.slice(0, match.index) : rest;
        out += applyMacros(piece, names, limit - out.length);
        if (!match || out.length >= limit) break;
        out += original;
        if (out.length >= limit) break;
        rest = rest.slice(match.index + match[0].length);
      }
      return out.slice(0, limit);
    },
    fit: "cut",
  };
}

function cardSections(
  character: PromptCharacter,
  names: MacroNames,
): Partial<Record<SystemPart, Section | undefined>> {
  const examples = character.example_dialogue.replace(START, "").replace(/\n{3,}/g, "\n\n");
  return {
    system: systemPrompt(character.system_prompt, names),
    description: labelled("", character.description, names),
    personality: labelled("{{char}}'s personality: ", character.personality, names),
    scenario: labelled("Scenario: ", character.scenario, names),
    examples: labelled("Examples of how {{char}} speaks:\n", examples, names, "whole"),
  };
}

/** The section rendered into at most `space` characters, or "" when it cannot be kept. */
function fitSection(section: Section, space: number): string {
  if (space <= 0) return "";
  const text = section.render(space + 1);
  if (text.length <= space) return text;
  if (section.fit === "whole" || space <= CUT_MARK.length) return "";
  return text.slice(0, space - CUT_MARK.length) + CUT_MARK;
}

/** The newest messages that fit `room`, whole, with no gap; oldest first, and where they start. */
function fitHistory(
  history: readonly HistoryMessage[],
  room: number,
): { kept: PromptMessage[]; from: number } {
  const kept: PromptMessage[] = [];
  let from = history.length;
  for (let i = history.length - 1; i >= 0; i--) {
    const past = history[i];
    if (!past) continue;
    if (past.content === "") {
      from = i;
      continue;
    }
    if (past.content.length > room) break;
    room -= past.content.length;
    kept.push({ role: past.role, content: past.content });
    from = i;
  }
  return { kept: kept.reverse(), from };
}

/**
 * The `messages` of a chat completion: one system message from the character card, then
 * recent history, then the new user message. The total characters of all contents are at
 * most `budgetChars`: the budget goes to the parts in `PROMPT_PRIORITY` order, each part's
 * macros expanded within its share (so no macro can multiply the size).
 *
 * @example
 * buildPrompt({ character, userName: "Ann", history, message: "Hello!", budgetChars: 12_000 });
 * // [{ role: "system", content: "..." }, ...history, { role: "user", content: "Hello!" }]
 */
export function buildPrompt(input: PromptInput): PromptMessage[] {
  return planPrompt(input).messages;
}

/**
 * The one code path of a prompt: `buildPrompt` (every model turn) and `GET /chats/:id/context`
 * (the preview) both come here, so the preview is exactly what the next turn sends.
 */
export function planPrompt(input: PromptInput): PromptPlan {
  const { character, userName, budgetChars } = input;
  const names = { char: character.name, user: userName };
  const sections: Partial<Record<SystemPart, Section | undefined>> = {
    ...cardSections(character, names),
    persona: labelled("{{user}}'s persona: ", input.personaDescription ?? "", names),
    summary: labelled("Summary of the conversation so far:\n", input.summary ?? "", names),
  };
  let room = Math.max(0, budgetChars);
  let message = input.message;
  let history: PromptMessage[] = [];
  let historyFrom = input.history.length;
  let lore: PromptPlan["lore"] = [];
  const parts = new Map<SystemPart, string>();
  const put = (key: SystemPart, section: Section | undefined) => {
    if (!section) return;
    const separator = parts.size > 0 ? SEPARATOR.length : 0;
    const text = fitSection(section, room - separator);
    if (text === "") return;
    parts.set(key, text);
    room -= separator + text.length;
  };
  for (const key of PROMPT_PRIORITY) {
    if (key === "message") {
      if (message === undefined) continue;
      message = message.slice(0, room);
      room -= message.length;
    } else if (key === "history") {
      const fitted = fitHistory(input.history, room);
      history = fitted.kept;
      historyFrom = fitted.from;
      for (const past of history) room -= past.content.length;
    } else if (key === "lore") {
      lore = putLore(input, names, room, put);
    } else {
      put(key, sections[key]);
    }
  }
  const system = SYSTEM_ORDER.flatMap((key) => parts.get(key) ?? []).join(SEPARATOR);
  const messages: PromptMessage[] = [
    ...(system === "" ? [] : [{ role: "system" as const, content: system }]),
    ...history,
    ...(message === undefined ? [] : [{ role: "user" as const, content: message }]),
  ];
  return {
    messages,
    lore,
    summary_used: parts.has("summary"),
    chars: messages.reduce((sum, m) => sum + m.content.length, 0),
    history_dropped: historyFrom,
  };
}

/**
 * Activates the book on the history and the new message, within the room left (two
 * separators spared), and puts its `before_char` and `after_char` entries in; the entries
 * that went in, by insertion order.
 */
function putLore(
  input: PromptInput,
  names: MacroNames,
  room: number,
  put: (key: SystemPart, section: Section | undefined) => void,
): PromptPlan["lore"] {
  if (!input.characterBook) return [];
  const scanned =
    input.message === undefined ? input.history : [...input.history, { content: input.message }];
  const budget = room - 2 * SEPARATOR.length;
  if (budget <= 0) return [];
  const activation = activateLore(input.characterBook, scanned, { budgetChars: budget });
  const text = (entries: { content: string }[]) =>
    entries
      .map((entry) => entry.content.trim())
      .filter((content) => content !== "")
      .join("\n");
  put("lore_before", labelled("", text(activation.before), names));
  put("lore_after", labelled("", text(activation.after), names));
  return activation.fired;
}
