import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directive, startEmulator } from "../../emulator/runpod/server.mjs";

const AUTH = { authorization: "Bearer test-key", "content-type": "application/json" };

let emulator;

beforeAll(async () => {
  emulator = await startEmulator({ firstTokenMs: 5, tokenDelayMs: 2 });
});

afterAll(async () => {
  await emulator?.close();
});

const chatBody = (content, extra = {}) => ({
  model: "test-model",
  messages: [
    { role: "system", content: "You are Seraphina, guardian of the glade." },
    { role: "user", content },
  ],
  ...extra,
});

function complete(body, headers = AUTH, signal) {
  return fetch(`${emulator.url}/openai/v1/chat/completions`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    signal,
  });
}

/** Reads an SSE body to its end and returns the `data:` payloads in order. */
async function readEvents(response) {
  const text = await response.text();
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      return event.slice("data: ".length);
    });
}

describe("chat completions", () => {
  it("streams one chunk per token, a stop chunk, then [DONE]", async () => {
    const response = await complete(
      chatBody("Tell me about the dragons of the northern mountains", { stream: true }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readEvents(response);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event));
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ id: chunks[0].id, object: "chat.completion.chunk", model: "test-model" });
      expect(chunk.created).toEqual(expect.any(Number));
      expect(chunk.choices).toHaveLength(1);
      expect(chunk.choices[0].index).toBe(0);
    }
    const tokens = chunks.slice(0, -1);
    expect(tokens.length).toBeGreaterThanOrEqual(8);
    expect(tokens.length).toBeLessThanOrEqual(40);
    expect(tokens[0].choices[0].delta.role).toBe("assistant");
    expect(tokens.every((chunk) => chunk.choices[0].finish_reason === null)).toBe(true);
    expect(tokens.every((chunk) => typeof chunk.choices[0].delta.content === "string")).toBe(true);
    expect(chunks.at(-1).choices[0]).toEqual({ index: 0, delta: {}, finish_reason: "stop" });
    const text = tokens.map((chunk) => chunk.choices[0].delta.content).join("");
    expect(text).toMatch(/dragons|northern|mountains/);
  });

  it("answers the same text for the same message, streamed or not", async () => {
    const message = "What do you keep in the silver chest?";
    const streamed = (await readEvents(await complete(chatBody(message, { stream: true }))))
      .slice(0, -1)
      .map((event) => JSON.parse(event).choices[0].delta.content ?? "")
      .join("");
    const response = await complete(chatBody(message));
    expect(response.status).toBe(200);
    const completion = await response.json();
    expect(completion).toMatchObject({
      object: "chat.completion",
      model: "test-model",
      choices: [{ index: 0, message: { role: "assistant" }, finish_reason: "stop" }],
      usage: { completion_tokens: expect.any(Number), prompt_tokens: expect.any(Number) },
    });
    expect(completion.choices[0].message.content).toBe(streamed);
    const other = await (await complete(chatBody("Sing me the ballad of the drowned king"))).json();
    expect(other.choices[0].message.content).not.toBe(streamed);
  });

  it("sends exactly N tokens on tokens=N and stops at max_tokens with finish_reason length", async () => {
    const events = await readEvents(
      await complete(chatBody(`hello ${directive({ tokens: 25 })}`, { stream: true })),
    );
    expect(events.length).toBe(25 + 2);
    const limited = await (
      await complete(chatBody(`hello ${directive({ tokens: 25 })}`, { max_tokens: 5 }))
    ).json();
    expect(limited.usage.completion_tokens).toBe(5);
    expect(limited.choices[0].finish_reason).toBe("length");
  });

  it("adds a usage chunk when stream_options.include_usage is set", async () => {
    const events = await readEvents(
      await complete(
        chatBody("hi there traveler", { stream: true, stream_options: { include_usage: true } }),
      ),
    );
    const usageChunk = JSON.parse(events.at(-2));
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBe(events.length - 3);
  });

  it("paces tokens by firstTokenMs and tokenDelayMs", async () => {
    const slow = await startEmulator({ firstTokenMs: 120, tokenDelayMs: 15 });
    try {
      const started = performance.now();
      const response = await fetch(`${slow.url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify(chatBody(`pace ${directive({ tokens: 10 })}`, { stream: true })),
      });
      const reader = response.body.getReader();
      await reader.read();
      const firstAt = performance.now() - started;
      while (!(await reader.read()).done);
      const totalMs = performance.now() - started;
      expect(firstAt).toBeGreaterThanOrEqual(100);
      expect(totalMs).toBeGreaterThanOrEqual(120 + 9 * 15 - 10);
    } finally {
      await slow.close();
    }
  });

  it("answers 500 before streaming on chat=error", async () => {
    const response = await complete(chatBody(`oops ${directive({ chat: "error" })}`, { stream: true }));
    expect(response.status).toBe(500);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect((await response.json()).error.type).toBe("server_error");
  });

  it("drops the connection after a few tokens on chat=midfail", async () => {
    const response = await complete(chatBody(`cut ${directive({ chat: "midfail" })}`, { stream: true }));
    expect(response.status).toBe(200);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let received = "";
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += decoder.decode(value, { stream: true });
        }
      })(),
    ).rejects.toThrow();
    expect(received).toContain('"delta":{"role":"assistant"');
    expect(received).not.toContain("[DONE]");
  });

  it("sends headers and then nothing on chat=stall", async () => {
    const aborter = new AbortController();
    const response = await complete(
      chatBody(`wait ${directive({ chat: "stall" })}`, { stream: true }),
      AUTH,
      aborter.signal,
    );
    expect(response.status).toBe(200);
    const reader = response.body.getReader();
    const outcome = await Promise.race([
      reader.read().then(() => "data"),
      new Promise((resolve) => setTimeout(() => resolve("silence"), 300)),
    ]);
    expect(outcome).toBe("silence");
    aborter.abort();
  });

  it("answers 401 without a bearer key and 400 for a request without messages", async () => {
    const unauthorized = await complete(chatBody("hi"), { "content-type": "application/json" });
    expect(unauthorized.status).toBe(401);
    expect((await unauthorized.json()).error.code).toBe("invalid_api_key");
    const empty = await complete({ model: "m", messages: [] });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error.type).toBe("invalid_request_error");
    const badJson = await fetch(`${emulator.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: AUTH,
      body: "{",
    });
    expect(badJson.status).toBe(400);
  });

  it("lists the emulated model", async () => {
    const response = await fetch(`${emulator.url}/openai/v1/models`, { headers: AUTH });
    expect(await response.json()).toEqual({
      object: "list",
      data: [
        { id: "emulator-chat", object: "model", created: expect.any(Number), owned_by: "runpod-emulator" },
      ],
    });
  });
});
