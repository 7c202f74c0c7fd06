import { describe, expect, it } from "vitest";
import { type ConversationMessage, newMessage } from "../../src/conversation/message";
import {
  continueReply,
  editMessage,
  historyOf,
  idsFrom,
  lastAssistant,
  MAX_SWIPES,
  regenerate,
  swipe,
  swipeItems,
} from "../../src/conversation/swipes";
import { ApiError } from "../../src/errors/api-error";

const T0 = "2026-12-01T10:00:00.000Z";
const T1 = "2026-12-01T10:01:00.000Z";
const T2 = "2026-12-01T10:02:00.000Z";

const chat = (): ConversationMessage[] => [
  newMessage("m1", "assistant", "Welcome to the glade.", T0),
  newMessage("m2", "user", "Where am I?", T0),
  newMessage("m3", "assistant", "In Eldoria.", T0),
];

function rejects(run: () => unknown, status: number, detail: RegExp) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(status);
    expect((error as ApiError).detail).toMatch(detail);
    return;
  }
  expect.unreachable("expected an ApiError");
}

describe("alternatives of a reply", () => {
  it("regenerate appends an alternative and selects it", () => {
    const reply = regenerate(chat()[2] as ConversationMessage, "In the forest.", T1);
    expect(reply.swipes.map((s) => s.content)).toEqual(["In Eldoria.", "In the forest."]);
    expect(reply.swipe_index).toBe(1);
    expect(reply.content).toBe("In the forest.");
    expect(reply.swipes[1]?.created_at).toBe(T1);
    expect(reply.id).toBe("m3");
  });

  it("regenerate stops at 20 alternatives", () => {
    let reply = chat()[2] as ConversationMessage;
    for (let i = 1; i < MAX_SWIPES; i++) reply = regenerate(reply, `take ${i}`, T1);
    expect(reply.swipes).toHaveLength(20);
    rejects(() => regenerate(reply, "one more", T1), 400, /at most 20/);
  });

  it("regenerate refuses a user message", () => {
    rejects(() => regenerate(chat()[1] as ConversationMessage, "x", T1), 400, /Only a reply/);
  });

  it("swipe selects an alternative and its text; out of range is invalid", () => {
    const reply = regenerate(chat()[2] as ConversationMessage, "In the forest.", T1);
    const back = swipe(reply, 0);
    expect(back.swipe_index).toBe(0);
    expect(back.content).toBe("In Eldoria.");
    expect(swipe(back, 1).content).toBe("In the forest.");
    rejects(() => swipe(reply, 2), 400, /between 0 and 1/);
    rejects(() => swipe(reply, -1), 400, /between 0 and 1/);
    rejects(() => swipe(reply, 0.5), 400, /integer/);
  });

  it("continue extends only the selected alternative", () => {
    const reply = swipe(regenerate(chat()[2] as ConversationMessage, "In the forest", T1), 1);
    const longer = continueReply(reply, ", my friend.");
    expect(longer.content).toBe("In the forest, my friend.");
    expect(longer.swipes.map((s) => s.content)).toEqual(["In Eldoria.", "In the forest, my friend."]);
  });

  it("edit sets the selected alternative's text and edited_at", () => {
    const reply = regenerate(chat()[2] as ConversationMessage, "In the forest.", T1);
    const edited = editMessage(swipe(reply, 0), "In Eldoria, the glade.", T2);
    expect(edited.content).toBe("In Eldoria, the glade.");
    expect(edited.edited_at).toBe(T2);
    expect(edited.swipes.map((s) => s.content)).toEqual(["In Eldoria, the glade.", "In the forest."]);
    expect(swipe(edited, 0).content).toBe("In Eldoria, the glade.");
  });

  it("the model sees the selected alternative as edited", () => {
    const messages = chat();
    messages[2] = editMessage(
      regenerate(messages[2] as ConversationMessage, "Take two.", T1),
      "Take two, edited.",
      T2,
    );
    expect(historyOf(messages).at(-1)).toEqual({ role: "assistant", content: "Take two, edited." });
  });

  it("delete-from-here names that message and every later one", () => {
    expect(idsFrom(chat(), "m2")).toEqual(["m2", "m3"]);
    expect(idsFrom(chat(), "m1")).toEqual(["m1", "m2", "m3"]);
    rejects(() => idsFrom(chat(), "nope"), 404, /message/);
  });

  it("only the last reply can be regenerated or swiped", () => {
    expect(lastAssistant(chat()).id).toBe("m3");
    expect(lastAssistant(chat(), "m3").id).toBe("m3");
    rejects(() => lastAssistant(chat(), "m1"), 400, /last reply/);
    rejects(() => lastAssistant(chat().slice(0, 2)), 400, /does not end/);
    rejects(() => lastAssistant([]), 400, /does not end/);
  });

  it("lists the alternatives with their times", () => {
    const reply = regenerate(chat()[2] as ConversationMessage, "In the forest.", T1);
    expect(swipeItems(reply)).toEqual([
      { index: 0, content: "In Eldoria.", created_at: T0 },
      { index: 1, content: "In the forest.", created_at: T1 },
    ]);
  });
});
