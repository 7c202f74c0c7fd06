import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LlmError, readChunk, streamCompletion } from "../../src/realtime/llm-client";

const limits = (
  overrides: Partial<{
    stallMs: number;
    totalMs: number;
    signal: AbortSignal;
    controller: AbortController;
  }> = {},
) => ({
  stallMs: 5000,
  totalMs: 10_000,
  signal: new AbortController().signal,
  ...overrides,
});

function request(content: string, apiKey: string | undefined = "test-llm-key") {
  return {
    baseUrl: `${env.EMULATOR_URL}/openai/v1`,
    apiKey,
    model: "emulator-chat",
    maxTokens: 600,
    messages: [
      { role: "system" as const, content: "You are a test." },
      { role: "user" as const, content },
    ],
  };
}

async function collect(stream: AsyncGenerator<string>): Promise<string[]> {
  const pieces: string[] = [];
  for await (const piece of stream) pieces.push(piece);
  return pieces;
}

async function failure(stream: AsyncGenerator<string>): Promise<LlmError> {
  try {
    await collect(stream);
  } catch (error) {
    if (error instanceof LlmError) return error;
    throw error;
  }
  throw new Error("expected the stream to fail");
}

describe("readChunk", () => {
  it("reads content deltas, finish reasons and [DONE]", () => {
    expect(readChunk('{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}')).toEqual({
      text: "Hi",
      done: false,
      finishReason: null,
    });
    expect(readChunk('{"choices":[{"delta":{},"finish_reason":"stop"}]}')).toEqual({
      text: "",
      done: false,
      finishReason: "stop",
    });
    expect(readChunk("[DONE]")).toEqual({ text: "", done: true, finishReason: null });
    expect(readChunk('{"choices":[],"usage":{"total_tokens":3}}').text).toBe("");
  });

  it("turns an in-stream error and non-JSON into LlmError", () => {
    expect(() => readChunk('{"error":{"message":"overloaded"}}')).toThrow(LlmError);
    expect(() => readChunk("{oops")).toThrow(/not JSON/);
  });
});

describe("streamCompletion against the emulator", () => {
  it("yields the reply token by token", async () => {
    const pieces = await collect(streamCompletion(request("Tell me of dragons [[emu:tokens=6]]"), limits()));
    expect(pieces).toHaveLength(6);
    expect(pieces.join("").length).toBeGreaterThan(6);
  });

  it("fails with the HTTP status on chat=error, without echoing the key", async () => {
    const error = await failure(streamCompletion(request("x [[emu:chat=error]]"), limits()));
    expect(error.kind).toBe("http");
    expect(error.status).toBe(500);
    expect(error.detail).not.toContain("test-llm-key");
  });

  it("fails when the connection drops mid-reply (chat=midfail)", async () => {
    const pieces: string[] = [];
    let caught: unknown;
    try {
      for await (const piece of streamCompletion(request("x [[emu:chat=midfail;tokens=20]]"), limits()))
        pieces.push(piece);
    } catch (error) {
      caught = error;
    }
    expect(pieces.length).toBeGreaterThanOrEqual(1);
    expect(caught).toBeInstanceOf(LlmError);
    expect(["network", "protocol"]).toContain((caught as LlmError).kind);
  });

  it("gives up after stallMs of silence (chat=stall)", async () => {
    const started = Date.now();
    const error = await failure(streamCompletion(request("x [[emu:chat=stall]]"), limits({ stallMs: 200 })));
    expect(error.kind).toBe("stall");
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("gives up after totalMs even while tokens flow", async () => {
    const error = await failure(streamCompletion(request("x [[emu:tokens=500]]"), limits({ totalMs: 200 })));
    expect(error.kind).toBe("timeout");
  });

  it("ends quietly when the caller aborts", async () => {
    const controller = new AbortController();
    const pieces: string[] = [];
    for await (const piece of streamCompletion(
      request("x [[emu:tokens=300]]"),
      limits({ signal: controller.signal }),
    )) {
      pieces.push(piece);
      if (pieces.length === 3) controller.abort();
    }
    expect(pieces).toHaveLength(3);
  });

  it("ends quietly when the caller aborts while a read waits (chat=stall)", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const pieces = await collect(
      streamCompletion(request("x [[emu:chat=stall]]"), limits({ signal: controller.signal })),
    );
    expect(pieces).toEqual([]);
    // Ended by the abort, not by the stall limit (5 s).
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("fails on an unreachable model", async () => {
    const error = await failure(
      streamCompletion(
        { ...request("x"), baseUrl: "http://127.0.0.1:9/openai/v1" },
        limits({ stallMs: 2000 }),
      ),
    );
    expect(["network", "stall"]).toContain(error.kind);
  });
});

describe("streamCompletion with a lent controller (the session's turn lends its own)", () => {
  const lent = (overrides: Partial<{ stallMs: number; totalMs: number }> = {}) => {
    const controller = new AbortController();
    return { controller, limits: limits({ ...overrides, signal: controller.signal, controller }) };
  };

  it("yields the whole reply and leaves the controller alone", async () => {
    const { controller, limits: l } = lent();
    const pieces = await collect(streamCompletion(request("Tell me of dragons [[emu:tokens=6]]"), l));
    expect(pieces).toHaveLength(6);
    expect(controller.signal.aborted).toBe(false);
  });

  it("gives up after stallMs, aborting the lent controller with the LlmError (chat=stall)", async () => {
    const { controller, limits: l } = lent({ stallMs: 200 });
    const started = Date.now();
    const error = await failure(streamCompletion(request("x [[emu:chat=stall]]"), l));
    expect(error.kind).toBe("stall");
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe(error);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("gives up after totalMs even while tokens flow", async () => {
    const { controller, limits: l } = lent({ totalMs: 200 });
    const error = await failure(streamCompletion(request("x [[emu:tokens=500]]"), l));
    expect(error.kind).toBe("timeout");
    expect(controller.signal.reason).toBe(error);
  });

  it("ends quietly when the caller aborts it after three pieces", async () => {
    const { controller, limits: l } = lent();
    const pieces: string[] = [];
    for await (const piece of streamCompletion(request("x [[emu:tokens=300]]"), l)) {
      pieces.push(piece);
      if (pieces.length === 3) controller.abort();
    }
    expect(pieces).toHaveLength(3);
  });

  it("ends quietly when the caller aborts it while a read waits (chat=stall)", async () => {
    const { controller, limits: l } = lent();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const pieces = await collect(streamCompletion(request("x [[emu:chat=stall]]"), l));
    expect(pieces).toEqual([]);
    // Ended by the abort, not by the stall limit (5 s).
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("ends quietly when the caller aborts it before the headers", async () => {
    const { controller, limits: l } = lent();
    const stream = streamCompletion(request("x [[emu:tokens=5]]"), l);
    const first = stream.next();
    controller.abort();
    expect(await first).toEqual({ done: true, value: undefined });
  });

  it("stops the request when the caller stops reading", async () => {
    const { controller, limits: l } = lent();
    for await (const piece of streamCompletion(request("x [[emu:tokens=300]]"), l)) {
      expect(piece).not.toBe("");
      break;
    }
    expect(controller.signal.aborted).toBe(true);
  });

  it("ignores a controller that is not the signal's: the caller's signal still stops it", async () => {
    const caller = new AbortController();
    const other = new AbortController();
    const pieces: string[] = [];
    for await (const piece of streamCompletion(
      request("x [[emu:tokens=300]]"),
      limits({ signal: caller.signal, controller: other }),
    )) {
      pieces.push(piece);
      if (pieces.length === 2) caller.abort();
    }
    expect(pieces).toHaveLength(2);
    expect(other.signal.aborted).toBe(false);
  });
});
