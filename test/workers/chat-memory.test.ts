import { describe, expect, it } from "vitest";
import type { TurnContext } from "../../src/realtime/chat-context";
import { ChatMemory } from "../../src/realtime/chat-memory";

function context(id: string, history: string[] = []): TurnContext {
  return {
    chat: {
      id,
      character_id: "chr",
      title: "t",
      created_at: "",
      last_message_at: "",
      summary: null,
      summary_through: null,
    },
    character: {
      name: "C",
      system_prompt: "",
      description: "",
      personality: "",
      scenario: "",
      example_dialogue: "",
    },
    userName: "Ann",
    history: history.map((content) => ({ role: "user", content })),
  };
}

describe("ChatMemory", () => {
  it("remembers a chat until its time to live runs out", () => {
    const memory = new ChatMemory(undefined, 4, 1000);
    memory.set("a", context("a"), 0);
    expect(memory.get("a", 999)?.chat.id).toBe("a");
    expect(memory.get("a", 1001)).toBeNull();
  });

  it("keeps only the most recently used chats", () => {
    const memory = new ChatMemory(undefined, 2, 10_000);
    memory.set("a", context("a"), 0);
    memory.set("b", context("b"), 0);
    memory.get("a", 1);
    memory.set("c", context("c"), 2);
    expect(memory.get("b", 3)).toBeNull();
    expect(memory.get("a", 3)).not.toBeNull();
    expect(memory.get("c", 3)).not.toBeNull();
  });

  it("appends stored messages and drops the oldest beyond the kept characters", () => {
    const memory = new ChatMemory();
    memory.set("a", context("a", ["1234", "5678"]), 0);
    memory.append("a", { role: "assistant", content: "abcd" }, 10);
    expect(memory.get("a", 1)?.history.map((m) => m.content)).toEqual(["1234", "5678", "abcd"]);
    memory.append("a", { role: "user", content: "wxyz" }, 10);
    expect(memory.get("a", 1)?.history.map((m) => m.content)).toEqual(["5678", "abcd", "wxyz"]);
  });

  it("forgets a chat (deleted) and ignores appends to chats it does not hold", () => {
    const memory = new ChatMemory();
    memory.set("a", context("a"), 0);
    memory.forget("a");
    memory.append("a", { role: "user", content: "x" }, 100);
    expect(memory.get("a", 1)).toBeNull();
  });
});
