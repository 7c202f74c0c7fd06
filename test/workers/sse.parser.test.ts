import { describe, expect, it } from "vitest";
import { type SseEvent, SseParser } from "../../src/realtime/sse-parser";

const encoder = new TextEncoder();

function parseAll(chunks: (string | Uint8Array)[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for (const chunk of chunks)
    events.push(...parser.push(typeof chunk === "string" ? encoder.encode(chunk) : chunk));
  events.push(...parser.end());
  return events;
}

/** A stream with every feature that can straddle a chunk boundary. */
const STREAM = [
  "\uFEFF: a comment first\r\n",
  'data: {"choices":[{"delta":{"content":"Hé"}}]}\r\n\r\n',
  "event: note\n",
  "id: 7\n",
  "data: dragon 🐉 line one\n",
  "data:line two without a space\n",
  "data\n",
  "\n",
  ": keep-alive\r",
  "data: cr only ж\r\r",
  "retry: 1000\n",
  "unknownfield: x\n",
  "data: [DONE]\n\n",
].join("");

const EXPECTED: SseEvent[] = [
  { event: "message", data: '{"choices":[{"delta":{"content":"Hé"}}]}' },
  { event: "note", data: "dragon 🐉 line one\nline two without a space\n", id: "7" },
  { event: "message", data: "cr only ж", id: "7" },
  { event: "message", data: "[DONE]", id: "7" },
];

describe("SseParser", () => {
  it("parses a whole stream: CRLF, CR, comments, multi-line data, event, id, BOM", () => {
    expect(parseAll([STREAM])).toEqual(EXPECTED);
  });

  it("gives the same events however the bytes are split in two (every position)", () => {
    const bytes = encoder.encode(STREAM);
    for (let i = 0; i <= bytes.length; i++) {
      expect(parseAll([bytes.slice(0, i), bytes.slice(i)]), `split at byte ${i}`).toEqual(EXPECTED);
    }
  });

  it("gives the same events for every split into three pieces", () => {
    const bytes = encoder.encode(STREAM);
    for (let i = 0; i <= bytes.length; i += 1) {
      for (let j = i; j <= bytes.length; j += 7) {
        expect(
          parseAll([bytes.slice(0, i), bytes.slice(i, j), bytes.slice(j)]),
          `split at ${i}, ${j}`,
        ).toEqual(EXPECTED);
      }
    }
  });

  it("gives the same events fed one byte at a time", () => {
    const bytes = encoder.encode(STREAM);
    expect(parseAll([...bytes].map((b) => Uint8Array.of(b)))).toEqual(EXPECTED);
  });

  it("does not merge two lines when CR and LF arrive in different chunks", () => {
    expect(parseAll(["data: a\r", "\ndata: b\r", "\n\r", "\n"])).toEqual([
      { event: "message", data: "a\nb" },
    ]);
  });

  it("treats a lone LF chunk after CR as the end of that line only", () => {
    expect(parseAll(["data: a\r", "\n", "\n"])).toEqual([{ event: "message", data: "a" }]);
  });

  it("ignores blank events and comment-only streams", () => {
    expect(parseAll([": ping\n\n\n: ping\n\n"])).toEqual([]);
  });

  it("dispatches a last event that lacks its blank line at end of stream", () => {
    expect(parseAll(["data: tail"])).toEqual([{ event: "message", data: "tail" }]);
  });

  it("keeps a UTF-8 sequence split across chunks intact", () => {
    const bytes = encoder.encode("data: 🐉\n\n");
    expect(parseAll([bytes.slice(0, 8), bytes.slice(8, 9), bytes.slice(9)])).toEqual([
      { event: "message", data: "🐉" },
    ]);
  });
});
