import { describe, expect, it } from "vitest";
import { applyMacros } from "../../src/realtime/macros";
import {
  buildPrompt,
  DEFAULT_SYSTEM_PROMPT,
  type HistoryMessage,
  type PromptCharacter,
} from "../../src/realtime/prompt-builder";

const character: PromptCharacter = {
  name: "Marrow",
  system_prompt: "",
  description: "{{char}} keeps an apothecary and calls {{user}} 'dear'.",
  personality: "Dry, patient.",
  scenario: "<USER> walks into <BOT>'s shop.",
  example_dialogue:
    "<START>\n{{user}}: Hello?\n{{char}}: Mind the step.\n<START>\n<user>: Tea?\n<bot>: Always.",
};

const names = { char: "Marrow", user: "Ann" };

describe("applyMacros", () => {
  it("replaces {{char}}/{{user}} and legacy <BOT>/<USER>, any case", () => {
    expect(applyMacros("{{char}} {{CHAR}} {{Char}} <BOT> <bot> <Bot>", names)).toBe(
      "Marrow Marrow Marrow Marrow Marrow Marrow",
    );
    expect(applyMacros("{{user}} {{USER}} <USER> <user> <uSeR>", names)).toBe("Ann Ann Ann Ann Ann");
  });

  it("substitutes once: a name that reads like a macro stays literal", () => {
    expect(applyMacros("Hi {{user}}, I am {{char}}", { char: "{{user}}", user: "<BOT>" })).toBe(
      "Hi <BOT>, I am {{user}}",
    );
  });

  it("leaves other braces and tags alone", () => {
    expect(applyMacros("{{chars}} {char} <START> <b>", names)).toBe("{{chars}} {char} <START> <b>");
  });
});

describe("buildPrompt", () => {
  const history: HistoryMessage[] = [
    { role: "assistant", content: "Welcome, Ann." },
    { role: "user", content: "I need a remedy." },
    { role: "assistant", content: "For what ails you?" },
  ];

  it("puts the card in one system message with macros filled, then history, then the new message", () => {
    const messages = buildPrompt({
      character,
      userName: "Ann",
      history,
      message: "A cough.",
      budgetChars: 10_000,
    });
    const [system, ...rest] = messages;
    expect(system?.role).toBe("system");
    expect(system?.content).toContain(
      "Write Marrow's next reply in a fictional chat between Marrow and Ann.",
    );
    expect(system?.content).toContain("Marrow keeps an apothecary and calls Ann 'dear'.");
    expect(system?.content).toContain("Marrow's personality: Dry, patient.");
    expect(system?.content).toContain("Scenario: Ann walks into Marrow's shop.");
    expect(system?.content).toContain("Ann: Hello?\nMarrow: Mind the step.");
    expect(system?.content).toContain("Ann: Tea?\nMarrow: Always.");
    expect(system?.content).not.toMatch(/<START>|\{\{|<bot>|<user>/i);
    expect(rest).toEqual([...history, { role: "user", content: "A cough." }]);
  });

  it("uses the card's system_prompt instead of the default, with {{original}} standing for the default", () => {
    const own = buildPrompt({
      character: { ...character, system_prompt: "You are {{char}}. Never break character." },
      userName: "Ann",
      history: [],
      message: "Hi",
      budgetChars: 10_000,
    });
    expect(own[0]?.content.startsWith("You are Marrow. Never break character.")).toBe(true);
    expect(own[0]?.content).not.toContain("fictional chat");

    const wrapped = buildPrompt({
      character: { ...character, system_prompt: "{{original}} Keep it short." },
      userName: "Ann",
      history: [],
      message: "Hi",
      budgetChars: 10_000,
    });
    expect(wrapped[0]?.content).toContain(`${applyMacros(DEFAULT_SYSTEM_PROMPT, names)} Keep it short.`);
  });

  it("leaves out empty card sections", () => {
    const bare = {
      name: "X",
      system_prompt: "",
      description: "",
      personality: "",
      scenario: "",
      example_dialogue: "",
    };
    const [system] = buildPrompt({
      character: bare,
      userName: "Ann",
      history: [],
      message: "Hi",
      budgetChars: 1000,
    });
    expect(system?.content).toBe(applyMacros(DEFAULT_SYSTEM_PROMPT, { char: "X", user: "Ann" }));
  });

  it("keeps as much recent history as fits the budget, dropping the oldest first", () => {
    const long: HistoryMessage[] = Array.from({ length: 10 }, (_, i) => ({
      role: i % 2 === 0 ? "user" : "assistant",
      content: `${i}`.padEnd(100, "."),
    }));
    const system = buildPrompt({
      character,
      userName: "Ann",
      history: [],
      message: "now",
      budgetChars: 100_000,
    })[0];
    const systemWithoutExamples = buildPrompt({
      character: { ...character, example_dialogue: "" },
      userName: "Ann",
      history: [],
      message: "now",
      budgetChars: 100_000,
    })[0];
    const core = systemWithoutExamples?.content.length ?? 0;
    // Room for exactly three past messages besides the card and the new message.
    const messages = buildPrompt({
      character,
      userName: "Ann",
      history: long,
      message: "now",
      budgetChars: core + 3 + 300 + 50,
    });
    expect(messages.slice(1, -1).map((m) => m.content[0])).toEqual(["7", "8", "9"]);
    expect(messages.at(-1)).toEqual({ role: "user", content: "now" });
    // The examples went first: no room left for them.
    expect(messages[0]?.content.length).toBe(core);
    expect(system?.content.length).toBeGreaterThan(core);
  });

  it("always sends the new message, even past the budget", () => {
    const huge = "x".repeat(5000);
    const messages = buildPrompt({ character, userName: "Ann", history, message: huge, budgetChars: 100 });
    expect(messages).toHaveLength(2);
    expect(messages[1]).toEqual({ role: "user", content: huge });
  });

  it("stops at the first message that does not fit (no gaps in the history)", () => {
    const gap: HistoryMessage[] = [
      { role: "user", content: "old small" },
      { role: "assistant", content: "y".repeat(2000) },
      { role: "user", content: "recent" },
    ];
    const core =
      buildPrompt({
        character: { ...character, example_dialogue: "" },
        userName: "Ann",
        history: [],
        message: "q",
        budgetChars: 1e6,
      })[0]?.content.length ?? 0;
    const messages = buildPrompt({
      character: { ...character, example_dialogue: "" },
      userName: "Ann",
      history: gap,
      message: "q",
      budgetChars: core + 1 + 500,
    });
    expect(messages.slice(1).map((m) => m.content)).toEqual(["recent", "q"]);
  });

  it("skips empty messages (a reply cancelled before its first token)", () => {
    const messages = buildPrompt({
      character,
      userName: "Ann",
      history: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "" },
      ],
      message: "again",
      budgetChars: 10_000,
    });
    expect(messages.slice(1)).toEqual([
      { role: "user", content: "hi" },
      { role: "user", content: "again" },
    ]);
  });
});
