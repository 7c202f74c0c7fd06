import { describe, expect, it } from "vitest";
import { applyMacros } from "../../src/realtime/macros";
import {
  buildPrompt,
  DEFAULT_SYSTEM_PROMPT,
  type HistoryMessage,
  PROMPT_PRIORITY,
  type PromptCharacter,
  type PromptMessage,
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

  it("cuts even the new message when it alone is over the budget, so the total stays within it", () => {
    const huge = "x".repeat(5000);
    const messages = buildPrompt({ character, userName: "Ann", history, message: huge, budgetChars: 100 });
    expect(messages).toEqual([{ role: "user", content: "x".repeat(100) }]);
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

/** What the model is sent: the characters of every message's content. */
const totalChars = (messages: PromptMessage[]) => messages.reduce((sum, m) => sum + m.content.length, 0);

describe("the budget holds for any card", () => {
  const BUDGET = 12_000;
  const NAME = "N".repeat(80);
  /** A field of `length` characters made only of macros, each 5-8 characters becoming the 80-character name. */
  const macros = (length: number) =>
    "{{char}}<bot>{{user}}<BOT>".repeat(Math.ceil(length / 26)).slice(0, length);
  const pathological = (fieldChars: number): PromptCharacter => ({
    name: NAME,
    system_prompt: `{{original}}${macros(fieldChars - 12)}`,
    description: `D${macros(fieldChars - 1)}`,
    personality: `P${macros(fieldChars - 1)}`,
    scenario: `S${macros(fieldChars - 1)}`,
    example_dialogue: `E${macros(fieldChars - 1)}`,
  });
  const longHistory: HistoryMessage[] = Array.from({ length: 40 }, (_, i) => ({
    role: i % 2 === 0 ? "user" : "assistant",
    content: `${i} ${"h".repeat(400)}`,
  }));

  it.each([
    ["a hand-made card (every field 4000 characters of macros, an 80-character name)", 4000],
    ["an imported card (every field 20 000 characters of macros)", 20_000],
  ])("keeps %s within LLM_CONTEXT_BUDGET_CHARS", (_name, fieldChars) => {
    const messages = buildPrompt({
      character: pathological(fieldChars),
      userName: "U".repeat(40),
      history: longHistory,
      message: "m".repeat(4000),
      budgetChars: BUDGET,
    });
    expect(totalChars(messages)).toBeLessThanOrEqual(BUDGET);
    // The user's message is whole and last; the system prompt came first and took what was left.
    expect(messages.at(-1)).toEqual({ role: "user", content: "m".repeat(4000) });
    expect(messages[0]?.role).toBe("system");
    expect(messages[0]?.content.startsWith(`Write ${NAME}'s next reply`)).toBe(true);
    expect(messages[0]?.content.endsWith("…")).toBe(true);
  });

  it("stays within any budget, however small", () => {
    for (const budget of [0, 1, 2, 5, 50, 300, 1000, 4001, 8000]) {
      const messages = buildPrompt({
        character: pathological(20_000),
        userName: "Ann",
        history: longHistory,
        message: "hello there",
        budgetChars: budget,
      });
      expect(totalChars(messages)).toBeLessThanOrEqual(budget);
    }
  });

  it("drops parts in the stated order: examples, then history (oldest first), then scenario, personality, description", () => {
    const card: PromptCharacter = {
      name: "M",
      system_prompt: "SYS",
      description: "d".repeat(1000),
      personality: "p".repeat(1000),
      scenario: "s".repeat(1000),
      example_dialogue: "e".repeat(1000),
    };
    const history: HistoryMessage[] = Array.from({ length: 5 }, (_, i) => ({
      role: "user",
      content: `${i}`.repeat(500),
    }));
    const build = (budget: number) =>
      buildPrompt({ character: card, userName: "U", history, message: "q", budgetChars: budget });
    const full = build(1e6);
    const fullChars = totalChars(full);
    const has = (messages: PromptMessage[], text: string) => messages.some((m) => m.content.includes(text));

    // A little short: the examples go first, history stays whole.
    const noExamples = build(fullChars - 1);
    expect(has(noExamples, "eeee")).toBe(false);
    expect(noExamples.length).toBe(full.length);

    // Shorter: history goes oldest first, before any card field is cut.
    const lessHistory = build(fullChars - 1100 - 600);
    expect(has(lessHistory, "0000")).toBe(false);
    expect(has(lessHistory, "4444")).toBe(true);
    expect(lessHistory[0]?.content).toContain("s".repeat(1000));

    // Shorter still: no history at all, then the scenario is cut, personality and description whole.
    const cutScenario = build(3 + 1 + 1000 + 2 + 1000 + 20 + 2 + 500);
    expect(cutScenario.length).toBe(2);
    expect(cutScenario[0]?.content).toContain("p".repeat(1000));
    expect(cutScenario[0]?.content).toContain("d".repeat(1000));
    expect(cutScenario[0]?.content).not.toContain("s".repeat(1000));
    expect(cutScenario[0]?.content.endsWith("…")).toBe(true);

    // Only the system prompt and the message: the fields are cut in reverse of their priority.
    expect(build(3 + 1)).toEqual([
      { role: "system", content: "SYS" },
      { role: "user", content: "q" },
    ]);
    expect(PROMPT_PRIORITY).toEqual([
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
    ]);
  });

  it("bounds macro expansion: a huge field of <bot> costs the budget, not 16 times its size", () => {
    const limited = applyMacros("<bot>".repeat(20_000), { char: NAME, user: "Ann" }, 1000);
    expect(limited).toBe(NAME.repeat(13).slice(0, 1000));
  });
});
