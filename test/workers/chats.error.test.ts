import { describe, expect, it } from "vitest";
import { problem } from "./support/api";
import { call, newCharacter, newChat, newUser } from "./support/session";

describe("chats over REST: refusals", () => {
  it("needs a token on every chat route", async () => {
    for (const [method, path] of [
      ["POST", "/chats"],
      ["GET", "/chats"],
      ["GET", "/chats/cht_x"],
      ["GET", "/chats/cht_x/messages"],
      ["DELETE", "/chats/cht_x"],
    ] as const) {
      const res = await call(null, path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect((await problem(res)).code).toBe("unauthorized");
    }
  });

  it("validates the create body", async () => {
    const ann = await newUser();
    for (const body of [
      {},
      { character_id: "" },
      { character_id: 42 },
      { character_id: "chr_x", extra: 1 },
      { character_id: "../x" },
    ]) {
      const res = await call(ann, "/chats", { json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await problem(res)).code).toBe("invalid_request");
    }
    const broken = await call(ann, "/chats", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{",
    });
    expect(broken.status).toBe(400);
  });

  it("is 404 for an unknown character", async () => {
    const ann = await newUser();
    const res = await call(ann, "/chats", { json: { character_id: "chr_does_not_exist" } });
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("not_found");
  });

  it("refuses an unknown `before` message with 400", async () => {
    const ann = await newUser();
    const lyra = await newCharacter(ann);
    const chat = await newChat(ann, lyra.id);
    const res = await call(ann, `/chats/${chat.id}/messages?before=msg_nope`);
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe("invalid_request");
    expect(body.errors).toEqual([{ path: "query.before", message: "unknown message" }]);
  });

  it("refuses a message of another chat as `before`", async () => {
    const ann = await newUser();
    const lyra = await newCharacter(ann);
    const a = await newChat(ann, lyra.id);
    const b = await newChat(ann, lyra.id);
    const page = await (await call(ann, `/chats/${b.id}/messages`)).json<{ items: { id: string }[] }>();
    const res = await call(ann, `/chats/${a.id}/messages?before=${page.items[0]?.id}`);
    expect(res.status).toBe(400);
  });

  it("refuses a malformed chat id with 400 and an unknown one with 404", async () => {
    const ann = await newUser();
    const bad = await call(ann, `/chats/${"x".repeat(65)}`);
    expect(bad.status).toBe(400);
    expect((await problem(bad)).code).toBe("invalid_request");
    const unknown = await call(ann, "/chats/cht_unknown");
    expect(unknown.status).toBe(404);
    expect((await problem(unknown)).code).toBe("not_found");
  });

  it("validates limit and cursor", async () => {
    const ann = await newUser();
    const lyra = await newCharacter(ann);
    const chat = await newChat(ann, lyra.id);
    for (const path of [
      `/chats/${chat.id}/messages?limit=0`,
      `/chats/${chat.id}/messages?limit=101`,
      "/chats?limit=abc",
      "/chats?cursor=bm90LWEtY3Vyc29y",
    ]) {
      const res = await call(ann, path);
      expect(res.status, path).toBe(400);
      expect((await problem(res)).code).toBe("invalid_request");
    }
  });
});
