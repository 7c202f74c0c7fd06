import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, newCharacter, newChat, newUser, openSocket } from "./support/session";

/** Personas end to end: set with `PATCH /me`, then seen in the preview and in what the model gets. */
describe("persona over HTTP and the socket", () => {
  it("fills {{user}} with the persona name and puts its description in the prompt the model receives", async () => {
    const user = await newUser("Ann");
    const tag = crypto.randomUUID().slice(0, 8);
    const persona = { name: `Wren${tag}`, description: `A cartographer who maps lighthouses (${tag}).` };
    const patched = await call(user, "/me", { method: "PATCH", json: { persona } });
    expect(patched.status).toBe(200);
    const character = await newCharacter(user, {
      name: "Keeper",
      scenario: "{{user}} climbs the lighthouse stairs.",
    });
    const chat = await newChat(user, character.id);

    const context = await (await call(user, `/chats/${chat.id}/context`)).json<{
      messages: { role: string; content: string }[];
    }>();
    const text = context.messages.map((m) => m.content).join("\n");
    expect(text).toContain(`Wren${tag} climbs the lighthouse stairs.`);
    expect(text).toContain(persona.description);
    expect(text).not.toContain("{{user}}");

    const socket = await openSocket(user);
    try {
      socket.send({ type: "chat.send", chat_id: chat.id, content: `Hello (${tag})`, client_id: "p1" });
      await socket.next((f) => f.type === "chat.done" && f.chat_id === chat.id);
    } finally {
      socket.close();
    }
    const res = await fetch(
      `${env.EMULATOR_URL}/_emulator/chat-requests?contains=${encodeURIComponent(`Hello (${tag})`)}`,
    );
    const { requests } = await res.json<{ requests: { messages: { content: string }[] }[] }>();
    expect(requests).toHaveLength(1);
    const sent = requests[0]?.messages.map((m) => m.content).join("\n") ?? "";
    expect(sent).toContain(`Wren${tag} climbs the lighthouse stairs.`);
    expect(sent).toContain(persona.description);
  });
});
