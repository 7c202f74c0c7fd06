import type { Character, MessageRole } from "../db/models";
import { applyMacros } from "./macros";

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
  /** The user's new message: always sent, whatever the budget. */
  message: string;
  /** Characters of message content the prompt may hold (`LLM_CONTEXT_BUDGET_CHARS`). */
  budgetChars: number;
}

/** What a frontend sends when the card has no `system_prompt` (and what `{{original}}` stands for). */
export const DEFAULT_SYSTEM_PROMPT =
  "Write {{char}}'s next reply in a fictional chat between {{char}} and {{user}}. Stay in character, write only {{char}}'s words and actions, and never speak for {{user}}.";

const ORIGINAL = /\{\{original\}\}/gi;
const START = /^[ \t]*<START>[ \t]*$/gim;

function section(label: string, text: string): string {
  const trimmed = text.trim();
  return trimmed === "" ? "" : label + trimmed;
}

/**
 * The `messages` of a chat completion: one system message from the character card
 * (system prompt, description, personality, scenario, then example dialogue when room is
 * left), then as much recent history as fits the budget, then the new user message.
 * The card and the new message are always kept; history is dropped oldest first, and the
 * example dialogue goes before any history does (as SillyTavern pushes examples out).
 *
 * @example
 * buildPrompt({ character, userName: "Ann", history, message: "Hello!", budgetChars: 12_000 });
 * // [{ role: "system", content: "..." }, ...history, { role: "user", content: "Hello!" }]
 */
export function buildPrompt(input: PromptInput): PromptMessage[] {
  const { character, userName, history, message, budgetChars } = input;
  const names = { char: character.name, user: userName };
  const system = character.system_prompt.trim()
    ? character.system_prompt.replace(ORIGINAL, DEFAULT_SYSTEM_PROMPT)
    : DEFAULT_SYSTEM_PROMPT;
  const core = [
    system,
    section("", character.description),
    section("{{char}}'s personality: ", character.personality),
    section("Scenario: ", character.scenario),
  ]
    .filter((part) => part !== "")
    .map((part) => applyMacros(part, names))
    .join("\n\n");
  const examples = applyMacros(
    section(
      "Examples of how {{char}} speaks:\n",
      character.example_dialogue.replace(START, "").replace(/\n{3,}/g, "\n\n"),
    ),
    names,
  );

  let room = budgetChars - core.length - message.length;
  const kept: PromptMessage[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const past = history[i];
    if (!past || past.content === "") continue;
    if (past.content.length > room) break;
    room -= past.content.length;
    kept.push({ role: past.role, content: past.content });
  }
  kept.reverse();

  const withExamples = examples !== "" && examples.length + 2 <= room ? `${core}\n\n${examples}` : core;
  return [{ role: "system", content: withExamples }, ...kept, { role: "user", content: message }];
}
