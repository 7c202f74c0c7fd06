import { describe, expect, inject, it } from "vitest";
import {
  buildSummaryRequest,
  foldIntoSummary,
  parseSummaryResponse,
  type SummaryTarget,
  type SummaryTurn,
} from "../../src/conversation/summary";

const emulatorUrl = inject("emulatorUrl");
const target = (overrides: Partial<SummaryTarget> = {}): SummaryTarget => ({
  baseUrl: `${emulatorUrl}/openai/v1`,
  apiKey: "test-llm-key",
  model: "test-model",
  timeoutMs: 10_000,
  ...overrides,
});

const turns: SummaryTurn[] = [
  { id: "m1", role: "assistant", content: "Welcome to my glade, traveller. You were hurt by a shadowfang." },
  { id: "m2", role: "user", content: "Thank you, Seraphina. My name is Ada and I come from Riverton." },
  { id: "m3", role: "assistant", content: "Rest, Ada. At dawn I will show you the path to the lake." },
];
const names = { characterName: "Seraphina", userName: "Ada" };

describe("long-memory summary", () => {
  it("builds a non-streaming request with the previous summary and the turns, oldest first", () => {
    const { body, consumed } = buildSummaryRequest(
      { previous: "Ada woke in the glade.", turns, ...names },
      "m",
    );
    expect(consumed).toBe(3);
    expect(body.stream).toBe(false);
    expect(body.model).toBe("m");
    expect(body.max_tokens).toBe(500);
    expect(body.messages[0]?.role).toBe("system");
    expect(body.messages[0]?.content).toContain("between Ada and Seraphina");
    const user = body.messages[1]?.content ?? "";
    expect(user).toContain("Summary so far:\nAda woke in the glade.");
    expect(user.indexOf("Seraphina: Welcome")).toBeLessThan(user.indexOf("Ada: Thank you"));
    expect(user.indexOf("Ada: Thank you")).toBeLessThan(user.indexOf("Seraphina: Rest, Ada"));
  });

  it("bounds the request: long turns are cut, and what does not fit waits for the next run", () => {
    const many: SummaryTurn[] = Array.from({ length: 50 }, (_, i) => ({
      id: `m${i}`,
      role: i % 2 ? "user" : "assistant",
      content: `turn ${i} `.repeat(400),
    }));
    const limits = { maxInputChars: 6_000, maxTurnChars: 1_000, maxSummaryChars: 800 };
    const { body, consumed } = buildSummaryRequest(
      { previous: "x".repeat(5_000), turns: many, ...names, limits },
      "m",
    );
    const chars = body.messages.reduce((sum, message) => sum + message.content.length, 0);
    expect(chars).toBeLessThanOrEqual(6_000);
    expect(consumed).toBeGreaterThanOrEqual(1);
    expect(consumed).toBeLessThan(50);
    expect(body.max_tokens).toBe(200);
    expect(body.messages[1]?.content).toContain("turn 0 ");
    expect(body.messages[1]?.content).not.toContain(`turn ${consumed} `);
  });

  it("always folds at least one turn, even one larger than the whole budget", () => {
    const huge: SummaryTurn[] = [{ id: "big", role: "user", content: "y".repeat(50_000) }];
    const { body, consumed } = buildSummaryRequest({ previous: null, turns: huge, ...names }, "m");
    expect(consumed).toBe(1);
    expect(body.messages[1]?.content.length).toBeLessThan(16_000);
  });

  it("folds turns into a new summary with the model (the RunPod emulator's OpenAI route)", async () => {
    const outcome = await foldIntoSummary({ previous: "Ada woke in the glade.", turns, ...names }, target());
    expect(outcome.updated).toBe(true);
    if (!outcome.updated) return;
    expect(outcome.summary.length).toBeGreaterThan(10);
    expect(outcome.summary).not.toBe("Ada woke in the glade.");
    expect(outcome.consumed).toBe(3);
    expect(outcome.through).toBe("m3");
  });

  it("keeps the summary within max_tokens", async () => {
    const limits = { maxSummaryChars: 12 };
    const outcome = await foldIntoSummary({ previous: null, turns, ...names, limits }, target());
    expect(outcome.updated).toBe(true);
    expect(outcome.summary?.length).toBeLessThanOrEqual(12);
  });

  it("returns the old summary, without throwing, when the model fails", async () => {
    const failing: SummaryTurn[] = [
      ...turns,
      { id: "m4", role: "user", content: "[[emu:chat=error]] hello" },
    ];
    const outcome = await foldIntoSummary({ previous: "old summary", turns: failing, ...names }, target());
    expect(outcome).toMatchObject({ updated: false, summary: "old summary", consumed: 0, through: null });
    if (!outcome.updated) expect(outcome.failure).toBe("HTTP 500");
  });

  it("returns the old summary when the model stalls past the timeout", async () => {
    const stalling: SummaryTurn[] = [{ id: "m1", role: "user", content: "[[emu:chat=stall]] hello" }];
    const outcome = await foldIntoSummary(
      { previous: "old", turns: stalling, ...names },
      target({ timeoutMs: 300 }),
    );
    expect(outcome).toMatchObject({ updated: false, summary: "old" });
  });

  it("returns the old summary when the model cannot be reached or answers elsewhere", async () => {
    const unreachable = await foldIntoSummary(
      { previous: null, turns, ...names },
      target({ baseUrl: "http://127.0.0.1:9/openai/v1" }),
    );
    expect(unreachable).toMatchObject({ updated: false, summary: null });
    const wrongPath = await foldIntoSummary(
      { previous: "kept", turns, ...names },
      target({ baseUrl: `${emulatorUrl}/nowhere` }),
    );
    expect(wrongPath).toMatchObject({ updated: false, summary: "kept" });
    const nothing = await foldIntoSummary({ previous: "kept", turns: [], ...names }, target());
    expect(nothing).toMatchObject({ updated: false, summary: "kept" });
  });

  it("reads only a non-empty text answer", () => {
    expect(parseSummaryResponse({ choices: [{ message: { content: "  Ada rested.  " } }] })).toBe(
      "Ada rested.",
    );
    expect(parseSummaryResponse({ choices: [{ message: { content: "   " } }] })).toBeNull();
    expect(parseSummaryResponse({ choices: [{ message: { content: 3 } }] })).toBeNull();
    expect(parseSummaryResponse({ choices: "no" })).toBeNull();
    expect(parseSummaryResponse(null)).toBeNull();
    expect(parseSummaryResponse({ choices: [{ message: { content: "one two three four" } }] }, 12)).toBe(
      "one two",
    );
  });
});
