// The stress round's flows (`npm run loadtest -- --stress-flows`): a round leaves out exactly the
// flows not named, so the server CPU a left-out flow saves is that flow's cost.
import { describe, expect, it } from "vitest";
import { STRESS_FLOWS, stressRounds } from "../../bench/loadtest/scenario.mjs";

/** Runs stress rounds against a recording stand-in for the user's actions until `rounds` are done. */
async function roundsWith(flows, rounds = 3) {
  const calls = [];
  const progress = { iterations: 0 };
  const stop = new AbortController();
  const act = {
    async api(name, _method, path) {
      calls.push(name);
      if (path.startsWith("/characters?")) return { items: [{ id: "c1" }, { id: "c2" }] };
      if (path === "/chats") return { id: "chat1" };
      if (progress.iterations + 1 >= rounds && name === "GET /generations") stop.abort();
      return {};
    },
    async chatTurn() {
      calls.push("chat turn");
    },
    async image() {
      calls.push("image");
    },
  };
  await stressRounds(
    { i: 0, token: "t", socket: {}, act, deadline: Date.now() + 10_000, signal: stop.signal, progress },
    0,
    new Set(flows),
  );
  return { calls, rounds: progress.iterations };
}

const count = (calls, name) => calls.filter((c) => c === name).length;

describe("stress rounds by flow", () => {
  it("a full round runs its six HTTP requests, one image and a chat turn (turns spaced by the per-user limit)", async () => {
    const { calls, rounds } = await roundsWith(STRESS_FLOWS);
    expect(rounds).toBe(3);
    expect(count(calls, "image")).toBe(3);
    // The limit (20 turns a minute) lets the first round's turn through; the next come 3 s later.
    expect(count(calls, "chat turn")).toBe(1);
    expect(count(calls, "GET /characters")).toBe(3);
    expect(count(calls, "GET /generations")).toBe(3);
    expect(calls.length).toBe(3 * 6 + 3 + 1);
  });

  it("leaves out the image, the chat turn, or both, and nothing else", async () => {
    const chatOnly = await roundsWith(["chat"]);
    expect(count(chatOnly.calls, "image")).toBe(0);
    expect(count(chatOnly.calls, "chat turn")).toBe(1);
    const imageOnly = await roundsWith(["image"]);
    expect(count(imageOnly.calls, "chat turn")).toBe(0);
    expect(count(imageOnly.calls, "image")).toBe(3);
    const none = await roundsWith([]);
    expect(none.calls.filter((c) => c === "image" || c === "chat turn")).toEqual([]);
    expect(none.calls.length).toBe(3 * 6);
  });
});
