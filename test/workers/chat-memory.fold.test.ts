import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  call,
  newCharacter,
  newChat,
  newUser,
  openSocket,
  type TestSocket,
  type TestUser,
} from "./support/session";

/**
 * Long memory end to end: real turns over the socket until the oldest no longer fit
 * `LLM_CONTEXT_BUDGET_CHARS` (12 000), then the background fold through the emulated model,
 * the stored summary, its `chat.updated` frame and the next prompt that uses it.
 */

interface ChatView {
  id: string;
  summary: string | null;
  summary_through: string | null;
}

let sent = 0;
/** One chat.send and the `chat.done` that ends it (failed or complete). */
async function turn(socket: TestSocket, chatId: string, content: string) {
  const clientId = `fold-${++sent}`;
  socket.send({ type: "chat.send", chat_id: chatId, content, client_id: clientId });
  const echo = await socket.next((f) => f.type === "chat.message" && f.client_id === clientId);
  const done = await socket.next(
    (f) => f.type === "chat.done" && f.chat_id === chatId && f.message.created_at > echo.message.created_at,
  );
  return { user: echo.message, reply: done.message };
}

/** A long message (about 3 600 characters) that names `marker`, so the model's log can be searched. */
function longMessage(marker: string): string {
  return `${marker}: ${"The lighthouse keeper counted the ships again and wrote each name down. ".repeat(50)}`;
}

async function chatOf(user: TestUser, chatId: string): Promise<ChatView> {
  const res = await call(user, `/chats/${chatId}`);
  expect(res.status).toBe(200);
  return res.json();
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The model requests the emulator received whose text contains `text`. */
async function modelRequestsWith(text: string): Promise<{ messages: { role: string; content: string }[] }[]> {
  const res = await fetch(`${env.EMULATOR_URL}/_emulator/chat-requests?contains=${encodeURIComponent(text)}`);
  const body = await res.json<{ requests: { messages: { role: string; content: string }[] }[] }>();
  return body.requests;
}

const isFold = (request: { messages: { role: string; content: string }[] }) =>
  request.messages.some((m) => m.role === "system" && m.content.includes("long-term memory"));

describe("long memory: turns that fall out of the budget are folded into the chat's summary", () => {
  it("folds the oldest turns in the background, stores the summary, tells every socket, and the next prompt uses it", async () => {
    const user = await newUser("Ann");
    const character = await newCharacter(user, { name: "Keeper" });
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    try {
      const marker = `OLDEST-${crypto.randomUUID().slice(0, 8)}`;
      const first = await turn(socket, chat.id, longMessage(marker));
      expect(first.reply.status).toBe("complete");
      for (let i = 1; i <= 3; i++) {
        expect((await turn(socket, chat.id, longMessage(`LATER-${i}`))).reply.status).toBe("complete");
      }

      // The fold runs after the reply: the stored chat gets a summary through a dropped message.
      const folded = await waitFor("a stored summary", async () => {
        const view = await chatOf(user, chat.id);
        return view.summary ? view : null;
      });
      expect(folded.summary?.length).toBeGreaterThan(0);
      expect([first.user.id, first.reply.id]).toContain(folded.summary_through);
      const frame = await socket.next((f) => f.type === "chat.updated" && f.chat.summary !== null);
      expect(frame.chat).toMatchObject({ id: chat.id, summary: folded.summary });

      // The same model wrote it, from the oldest turn's text, with a bounded, non-streamed request.
      const folds = (await modelRequestsWith(marker)).filter(isFold);
      expect(folds.length).toBeGreaterThanOrEqual(1);

      // The next turn's prompt carries the summary ahead of the history, and the oldest turn is not
      // in the history any more.
      const context = await (await call(user, `/chats/${chat.id}/context`)).json<{
        messages: { role: string; content: string }[];
        summary_used: boolean;
      }>();
      expect(context.summary_used).toBe(true);
      expect(context.messages.some((m) => m.content.includes(folded.summary ?? "\u0000"))).toBe(true);
      expect(context.messages.some((m) => m.content.startsWith(marker))).toBe(false);
    } finally {
      socket.close();
    }
  });

  it("a summary that fails leaves the chat without one, and the turns go on", async () => {
    const user = await newUser("Bo");
    // The fold's request names the speakers; the emulator fails a request whose last user text
    // carries this directive. A turn's own request sends only the message, so replies still work.
    const persona = await call(user, "/me", {
      method: "PATCH",
      json: { persona: { name: "Bo [[emu:chat=error]]", description: "A sailor." } },
    });
    expect(persona.status).toBe(200);
    const character = await newCharacter(user, { name: "Keeper" });
    const chat = await newChat(user, character.id);
    const socket = await openSocket(user);
    try {
      const marker = `UNFOLDED-${crypto.randomUUID().slice(0, 8)}`;
      const turns = [await turn(socket, chat.id, longMessage(marker))];
      for (let i = 1; i <= 4; i++) turns.push(await turn(socket, chat.id, longMessage(`AFTER-${i}`)));
      expect(turns.map((t) => t.reply.status)).toEqual(Array(5).fill("complete"));

      const folds = await waitFor("a fold request for the oldest turn", async () => {
        const found = (await modelRequestsWith(marker)).filter(isFold);
        return found.length > 0 ? found : null;
      });
      expect(folds[0]?.messages[1]?.content).toContain("[[emu:chat=error]]");
      // Give a (wrongly) stored summary time to land before checking there is none.
      await new Promise((r) => setTimeout(r, 300));
      const view = await chatOf(user, chat.id);
      expect(view).toMatchObject({ summary: null, summary_through: null });
      expect(socket.ofType("error").filter((f) => f.chat_id === chat.id)).toEqual([]);
      expect(socket.ofType("chat.updated")).toEqual([]);
    } finally {
      socket.close();
    }
  });
});
