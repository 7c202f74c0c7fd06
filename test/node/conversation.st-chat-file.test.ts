import { describe, expect, it } from "vitest";
import { newMessage } from "../../src/conversation/message";
import {
  type ChatFile,
  exportStChat,
  importStChat,
  ST_CHAT_MAX_BYTES,
  ST_CHAT_MAX_MESSAGES,
  stDateToIso,
} from "../../src/conversation/st-chat-file";
import { editMessage, regenerate, swipe } from "../../src/conversation/swipes";
import { ApiError } from "../../src/errors/api-error";

const NOW = "2026-12-02T04:00:00.000Z";
const T = (minute: number) => `2026-12-01T10:${String(minute).padStart(2, "0")}:00.000Z`;

function sampleChat(): ChatFile {
  const greeting = newMessage("m1", "assistant", "*Seraphina smiles.* Welcome, {{user}}.", T(0));
  const question = editMessage(newMessage("m2", "user", "Where am I?", T(1)), "Where am I, exactly?", T(9));
  let reply = newMessage("m3", "assistant", "In Eldoria.", T(2));
  reply = regenerate(reply, "In my glade.\nRest now.", T(3));
  reply = regenerate(reply, "Somewhere safe.", T(4));
  reply = editMessage(swipe(reply, 1), "In my glade. Rest, traveller.", T(5));
  const picture = newMessage("m4", "assistant", "", T(6), [
    { kind: "image", job_id: "job_1", url: "https://example.test/i/1.png", width: 832, height: 1216 },
  ]);
  const cutShort = { ...newMessage("m5", "assistant", "The fire crack", T(7)), status: "cancelled" as const };
  const strip = ({ id: _id, ...rest }: ReturnType<typeof newMessage>) => rest;
  return {
    user_name: "Ada",
    character_name: "Seraphina",
    created_at: T(0),
    title: "In the glade",
    summary: "Ada woke up in Seraphina's glade.",
    messages: [greeting, question, reply, picture, cutShort].map(strip),
  };
}

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

const lines = (jsonl: string) =>
  jsonl
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("SillyTavern chat files", () => {
  it("exports a header line, then one SillyTavern line per message", () => {
    const [header, greeting, question, reply, picture, cutShort] = lines(exportStChat(sampleChat()));
    expect(header).toMatchObject({ user_name: "Ada", character_name: "Seraphina", create_date: T(0) });
    expect(header?.chat_metadata).toEqual({
      edge_art: { title: "In the glade", summary: "Ada woke up in Seraphina's glade." },
    });
    expect(greeting).toMatchObject({
      name: "Seraphina",
      is_user: false,
      is_system: false,
      send_date: T(0),
      swipe_id: 0,
    });
    expect(question).toMatchObject({ name: "Ada", is_user: true, mes: "Where am I, exactly?" });
    expect(question).not.toHaveProperty("swipes");
    expect(reply).toMatchObject({
      mes: "In my glade. Rest, traveller.",
      swipes: ["In Eldoria.", "In my glade. Rest, traveller.", "Somewhere safe."],
      swipe_id: 1,
    });
    expect(((reply?.swipe_info ?? []) as { send_date: string }[]).map((i) => i.send_date)).toEqual([
      T(2),
      T(3),
      T(4),
    ]);
    expect((picture?.extra as { image?: string } | undefined)?.image).toBe("https://example.test/i/1.png");
    expect(cutShort).toMatchObject({ is_user: false, is_system: false, mes: "The fire crack" });
    expect(cutShort?.extra).toEqual({ edge_art: { status: "cancelled" } });
  });

  it("round-trips: export then import loses nothing this API keeps", () => {
    const chat = sampleChat();
    expect(importStChat(exportStChat(chat), NOW)).toEqual(chat);
    const bytes = new TextEncoder().encode(exportStChat(chat));
    expect(importStChat(bytes, NOW)).toEqual(chat);
  });

  it("imports a chat as SillyTavern writes it (human dates, swipe_info, unknown keys)", () => {
    const file = [
      JSON.stringify({
        user_name: "You",
        character_name: "Seraphina",
        create_date: "2023-6-5 @12h 34m 56s 789ms",
        chat_metadata: { note_prompt: "" },
      }),
      JSON.stringify({
        name: "Seraphina",
        is_user: false,
        is_name: true,
        send_date: "June 5, 2023 12:35pm",
        mes: "Hello.",
        extra: {},
        swipes: ["Hello.", "Hi!"],
        swipe_id: 0,
        swipe_info: [
          { send_date: "June 5, 2023 12:35pm", gen_started: "x", extra: {} },
          { send_date: "June 5, 2023 12:36pm" },
        ],
        force_avatar: "x.png",
      }),
      "",
      JSON.stringify({
        name: "You",
        is_user: true,
        is_system: true,
        send_date: 1685968620000,
        mes: "Hi back.",
        extra: {},
      }),
      JSON.stringify({
        name: "Seraphina",
        is_user: false,
        send_date: "yesterday-ish",
        mes: "Old chat, no swipes.",
      }),
    ].join("\r\n");
    const chat = importStChat(file, NOW);
    expect(chat.user_name).toBe("You");
    expect(chat.created_at).toBe("2023-06-05T12:34:56.789Z");
    expect(chat.title).toBeNull();
    expect(chat.messages.map((m) => [m.role, m.content, m.created_at])).toEqual([
      ["assistant", "Hello.", "2023-06-05T12:35:00.000Z"],
      // Hidden in SillyTavern (is_system), still the user's.
      ["user", "Hi back.", "2023-06-05T12:37:00.000Z"],
      // An unreadable date takes the one before it, so the order stays.
      ["assistant", "Old chat, no swipes.", "2023-06-05T12:37:00.000Z"],
    ]);
    expect(chat.messages[0]?.swipes).toEqual([
      { content: "Hello.", created_at: "2023-06-05T12:35:00.000Z" },
      { content: "Hi!", created_at: "2023-06-05T12:36:00.000Z" },
    ]);
    expect(chat.messages[2]?.swipes).toHaveLength(1);
  });

  it("takes mes as the selected swipe's text when they differ", () => {
    const file = `{"user_name":"A","character_name":"B"}\n{"is_user":false,"mes":"edited","swipes":["a","b"],"swipe_id":1}\n`;
    const [reply] = importStChat(file, NOW).messages;
    expect(reply?.swipes.map((s) => s.content)).toEqual(["a", "edited"]);
    expect(reply?.content).toBe("edited");
  });

  it("keeps at most 20 swipes, always the selected one", () => {
    const swipes = Array.from({ length: 25 }, (_, i) => `take ${i}`);
    const at = (id: number) =>
      importStChat(`{}\n${JSON.stringify({ is_user: false, mes: `take ${id}`, swipes, swipe_id: id })}`, NOW)
        .messages[0];
    expect(at(3)?.swipes).toHaveLength(20);
    expect(at(3)?.swipe_index).toBe(3);
    expect(at(23)?.swipes).toHaveLength(20);
    expect(at(23)?.swipe_index).toBe(19);
    expect(at(23)?.content).toBe("take 23");
    expect(at(23)?.swipes[19]?.content).toBe("take 23");
  });

  it("names the broken line", () => {
    const header = '{"user_name":"A","character_name":"B"}';
    const ok = '{"is_user":true,"mes":"hi"}';
    rejects(() => importStChat([header, ok, "{not json"].join("\n"), NOW), 400, /^line 3: not valid JSON/);
    rejects(() => importStChat([header, ok, "", '{"is_user":true}'].join("\n"), NOW), 400, /^line 4: mes/);
    rejects(
      () => importStChat([header, '{"is_user":"yes","mes":"x"}'].join("\n"), NOW),
      400,
      /^line 2: is_user/,
    );
    rejects(() => importStChat([header, "[1,2]"].join("\n"), NOW), 400, /^line 2:/);
    rejects(
      () => importStChat([header, '{"is_user":false,"mes":"x","swipes":["x"],"swipe_id":1}'].join("\n"), NOW),
      400,
      /^line 2: swipe_id 1 is out of range of 1 swipes/,
    );
    rejects(() => importStChat([ok, ok].join("\n"), NOW), 400, /^line 1: expected the chat header/);
    rejects(() => importStChat("[]", NOW), 400, /^line 1:/);
    rejects(() => importStChat("\n\n", NOW), 400, /^line 1: the file is empty/);
    rejects(() => importStChat(new Uint8Array([0x7b, 0xff, 0x7d]), NOW), 400, /not UTF-8/);
  });

  it("refuses more than 10 000 messages, naming the first line over", { timeout: 30_000 }, () => {
    const message = '{"is_user":true,"mes":"hi"}';
    const file = (count: number) => ["{}", ...Array.from({ length: count }, () => message)].join("\n");
    expect(importStChat(file(ST_CHAT_MAX_MESSAGES), NOW).messages).toHaveLength(10_000);
    rejects(
      () => importStChat(file(ST_CHAT_MAX_MESSAGES + 1), NOW),
      400,
      /^line 10002: more than 10000 messages/,
    );
  });

  it("refuses a file over 8 MiB with 413", { timeout: 30_000 }, () => {
    const big = `{}\n${JSON.stringify({ is_user: true, mes: "x".repeat(ST_CHAT_MAX_BYTES) })}`;
    rejects(() => importStChat(big, NOW), 413, /8388608 bytes/);
    const justUnder = `{}\n${JSON.stringify({ is_user: true, mes: "x".repeat(ST_CHAT_MAX_BYTES - 40) })}`;
    expect(importStChat(justUnder, NOW).messages).toHaveLength(1);
  });

  it("reads the date formats SillyTavern has written", () => {
    expect(stDateToIso("June 5, 2023 12:34am")).toBe("2023-06-05T00:34:00.000Z");
    expect(stDateToIso("December 25, 2024 11:05 pm")).toBe("2024-12-25T23:05:00.000Z");
    expect(stDateToIso("2024-1-2 @3h 04m 05s 6ms")).toBe("2024-01-02T03:04:05.006Z");
    expect(stDateToIso(1_700_000_000_000)).toBe("2023-11-14T22:13:20.000Z");
    expect(stDateToIso("2025-01-01T00:00:00.000Z")).toBe("2025-01-01T00:00:00.000Z");
    expect(stDateToIso("Smarch 5, 2023 1:00am")).toBeNull();
    expect(stDateToIso("soon")).toBeNull();
  });
});
