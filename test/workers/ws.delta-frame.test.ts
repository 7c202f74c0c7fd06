import { describe, expect, it } from "vitest";
import { deltaSender, type TurnDeps } from "../../src/realtime/chat-stream";
import type { ServerEvent } from "../../src/realtime/events";

// A delta's frame is built from a prefix made once per reply; it must be exactly the text
// `JSON.stringify` makes of the event (API.md's frame), whatever the ids and the piece hold.
const awkward = [
  "plain",
  'quote " and \\ backslash',
  "line\nbreak\ttab\u0000nul",
  "\u2028\u2029 separators",
  "emoji 😀 and lone \ud800",
  "",
];

function sink() {
  const frames: string[] = [];
  const events: ServerEvent[] = [];
  const deps = {
    broadcast: (event: ServerEvent) => events.push(event),
    broadcastFrame: (frame: string) => frames.push(frame),
  } as unknown as TurnDeps;
  return { deps, frames, events };
}

describe("chat.delta frames", () => {
  it("are the JSON text of the event, for any piece and ids", () => {
    const { deps, frames } = sink();
    const chatId = 'cht_"odd"\\id';
    const messageId = "msg_\u2028x";
    const send = deltaSender(deps, chatId, messageId);
    for (const delta of awkward) send(delta);
    expect(frames).toEqual(
      awkward.map((delta) =>
        JSON.stringify({ type: "chat.delta", chat_id: chatId, message_id: messageId, delta }),
      ),
    );
    for (const [i, frame] of frames.entries()) {
      expect(JSON.parse(frame)).toEqual({
        type: "chat.delta",
        chat_id: chatId,
        message_id: messageId,
        delta: awkward[i],
      });
    }
  });

  it("go through broadcast as events when there is no frame sender", () => {
    const { deps, events } = sink();
    delete (deps as { broadcastFrame?: unknown }).broadcastFrame;
    deltaSender(deps, "cht_1", "msg_1")("Hi");
    expect(events).toEqual([{ type: "chat.delta", chat_id: "cht_1", message_id: "msg_1", delta: "Hi" }]);
  });
});
