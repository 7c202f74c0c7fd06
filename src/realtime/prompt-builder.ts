import type { Character, MessageRole } from "../db/models";
import { applyMacros, type MacroNames } from "./macros";
import { characterCallName } from "./names";

/** One message of an OpenAI-compatible `/chat/completions` request. */
export interface PromptMessage {
  role: "system" | MessageRole;
  content: string;
}

/** A past message of the chat. */
export interface HistoryMessage {
  role: MessageRole;
  content: string;
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
  /** The user's new message: the first thing the budget pays for. */
  message: string;
  /** Characters of message content the whole prompt may hold (`LLM_CONTEXT_BUDGET_CHARS`). */
  budgetChars: number;
}

/** What a frontend sends when the card has no `system_prompt` (and what `{{original}}` stands for). */
export const DEFAULT_SYSTEM_PROMPT =
  "Write {{char}}'s next reply in a fictional chat between {{char}} and {{user}}. Stay in character, write only {{char}}'s words and actions, and never speak for {{user}}.";

/** The parts of the system message. Lore, persona and a chat summary will join this list. */
export type SystemPart = "system" | "description" | "personality" | "scenario" | "examples";

/**
 * Who gets the budget first, when it runs short (API.md: the whole prompt is at most
 * `LLM_CONTEXT_BUDGET_CHARS` characters, whatever the card):
 * 1. the new user message (cut only when it alone is over the budget),
 * 2. the system prompt (the card's, or the default),
 * 3. description, 4. personality, 5. scenario (each cut to the room left),
 * 6. history, newest first, whole messages, stopping at the first that does not fit,
 * 7. example dialogue, whole or not at all (as SillyTavern pushes examples out first).
 */
export const PROMPT_PRIORITY: readonly (SystemPart | "message" | "history")[] = [
  "message",
  "system",
  "description",
  "personality",
  "scenario",
  "history",
  "examples",
];

/** Where the kept parts appear in the system message (its reading order, not its priority). */
const SYSTEM_ORDER: readonly SystemPart[] = ["system", "description", "personality", "scenario", "examples"];

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

/** The newest messages that fit `room`, whole, with no gap; oldest first. */
function fitHistory(history: readonly HistoryMessage[], room: number): PromptMessage[] {
  const kept: PromptMessage[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const past = history[i];
    if (!past || past.content === "") continue;
    if (past.content.length > room) break;
    room -= past.content.length;
    kept.push({ role: past.role, content: past.content });
  }
  return kept.reverse();
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
  const { character, userName, budgetChars } = input;
  const names = { char: characterCallName(character.name), user: userName };
  const sections = cardSections(character, names);
  let room = Math.max(0, budgetChars);
  let message = input.message;
  let history: PromptMessage[] = [];
  const parts = new Map<SystemPart, string>();
  for (const key of PROMPT_PRIORITY) {
    if (key === "message") {
      message = message.slice(0, room);
      room -= message.length;
    } else if (key === "history") {
      history = fitHistory(input.history, room);
      for (const past of history) room -= past.content.length;
    } else {
      const section = sections[key];
      if (!section) continue;
      const separator = parts.size > 0 ? SEPARATOR.length : 0;
      const text = fitSection(section, room - separator);
      if (text === "") continue;
      parts.set(key, text);
      room -= separator + text.length;
    }
  }
  const system = SYSTEM_ORDER.flatMap((key) => parts.get(key) ?? []).join(SEPARATOR);
  return [
    ...(system === "" ? [] : [{ role: "system" as const, content: system }]),
    ...history,
    { role: "user", content: message },
  ];
}
