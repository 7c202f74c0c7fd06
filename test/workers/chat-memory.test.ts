import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { UserSession } from "../../durable-objects/user-session";
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

describe("ChatMemory kept in a session's storage", () => {
  /** Runs `body` with the storage of a fresh session object (real SQLite-backed DO storage). */
  function inSessionStorage<T>(body: (kv: SyncKvStorage) => T): Promise<T> {
    const stub = env.USER_SESSION.get(env.USER_SESSION.idFromName(`memory-${crypto.randomUUID()}`));
    return runInDurableObject(stub, (_instance: UserSession, state) => body(state.storage.kv));
  }

  it("survives the object: a new memory over the same storage finds the chat and what was saved", async () => {
    const found = await inSessionStorage((kv) => {
      const before = new ChatMemory(kv);
      before.set("a", context("a", ["one"]), 0);
      before.append("a", { id: "m2", role: "assistant", content: "two" }, 100);
      before.save("a");
      before.append("a", { id: "m3", role: "user", content: "not saved" }, 100);
      return new ChatMemory(kv).get("a", 1)?.history.map((m) => m.content);
    });
    expect(found).toEqual(["one", "two"]);
  });

  it("keeps at most maxChats in storage, forgets one, and forgets all", async () => {
    const kept = await inSessionStorage((kv) => {
      const memory = new ChatMemory(kv, 2);
      for (const id of ["a", "b", "c"]) memory.set(id, context(id), 0);
      const fresh = () => new ChatMemory(kv, 2);
      const afterSet = ["a", "b", "c"].map((id) => fresh().get(id, 1) !== null);
      memory.forget("c");
      const afterForget = fresh().get("c", 1) !== null;
      memory.forgetAll();
      const afterAll = [...kv.list({ prefix: "turn-context" })].length;
      return { afterSet, afterForget, afterAll };
    });
    expect(kept).toEqual({ afterSet: [false, true, true], afterForget: false, afterAll: 0 });
  });

  it("drops a stored chat past its time to live", async () => {
    const expired = await inSessionStorage((kv) => {
      new ChatMemory(kv, 4, 1000).set("a", context("a"), 0);
      return new ChatMemory(kv, 4, 1000).get("a", 1001);
    });
    expect(expired).toBeNull();
  });
});
