import { describe, expect, it } from "vitest";
import type { CharacterBook } from "../../src/conversation";
import { PROMPT_PRIORITY, planPrompt } from "../../src/realtime/prompt-builder";

const character = {
  name: "Seraphina",
  system_prompt: "",
  description: "A guardian of the glade.",
  personality: "kind",
  scenario: "",
  example_dialogue: "",
};
const book = {
  entries: [
    { keys: ["eldoria"], content: "LORE-ELDORIA the realm of {{user}}.", enabled: true, insertion_order: 1 },
    { keys: ["zzz"], content: "LORE-NEVER", enabled: true, insertion_order: 2 },
  ],
} as unknown as CharacterBook;
const history = Array.from({ length: 6 }, (_, i) => ({
  id: `msg_${i}`,
  role: (i % 2 ? "assistant" : "user") as "user" | "assistant",
  content: `turn ${i} in eldoria ${"x".repeat(60)}`,
}));
const input = (budgetChars: number) => ({
  character,
  userName: "Wanderer",
  history,
  message: "Hello",
  budgetChars,
  personaDescription: "PERSONA {{user}} is a tired traveller.",
  characterBook: book,
  summary: "SUMMARY they met at dawn.",
});
const all = (plan: ReturnType<typeof planPrompt>) => plan.messages.map((m) => m.content).join("\n");

describe("the prompt with lore, persona and summary", () => {
  it("puts all three in, the persona name filling {{user}}, within the budget", () => {
    const plan = planPrompt(input(12_000));
    const text = all(plan);
    expect(text).toContain("LORE-ELDORIA the realm of Wanderer.");
    expect(text).not.toContain("LORE-NEVER");
    expect(text).toContain("PERSONA Wanderer is a tired traveller.");
    expect(text).toContain("SUMMARY they met at dawn.");
    expect(plan.lore).toEqual([{ index: 0, name: null }]);
    expect(plan.summary_used).toBe(true);
    expect(plan.history_dropped).toBe(0);
    expect(plan.chars).toBeLessThanOrEqual(12_000);
    // Lore before the card's description; the summary right ahead of the history.
    const system = plan.messages[0]?.content ?? "";
    expect(system.indexOf("LORE-ELDORIA")).toBeLessThan(system.indexOf("A guardian"));
    expect(system.endsWith("SUMMARY they met at dawn.")).toBe(true);
  });

  it("states the drop order, and the budget decides what goes: history, then summary, then lore, then persona", () => {
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
    const full = planPrompt(input(12_000));
    const sizes: { budget: number; text: string; plan: ReturnType<typeof planPrompt> }[] = [];
    for (let budget = full.chars; budget >= 0; budget -= 7) {
      const plan = planPrompt(input(budget));
      expect(plan.chars).toBeLessThanOrEqual(budget);
      sizes.push({ budget, text: all(plan), plan });
    }
    // The first budget at which each part is gone: history shrinks first, then the summary,
    // then lore, then the persona.
    const goneAt = (present: (s: (typeof sizes)[number]) => boolean) =>
      sizes.find((s) => !present(s))?.budget ?? -1;
    const oldestTurnGone = goneAt((s) => s.text.includes("turn 0"));
    const summaryGone = goneAt((s) => s.text.includes("SUMMARY"));
    const loreGone = goneAt((s) => s.text.includes("LORE-ELDORIA"));
    const personaGone = goneAt((s) => s.text.includes("PERSONA"));
    expect(oldestTurnGone).toBeGreaterThan(summaryGone);
    expect(summaryGone).toBeGreaterThan(loreGone);
    expect(loreGone).toBeGreaterThan(personaGone);
    // When history falls out, the plan says how many turns long memory should fold.
    const squeezed = sizes.find((s) => s.budget === oldestTurnGone);
    expect(squeezed?.plan.history_dropped).toBeGreaterThan(0);
  });
});
