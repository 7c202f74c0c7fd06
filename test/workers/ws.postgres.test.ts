import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { UserSession } from "../../durable-objects/user-session";
import { backends } from "./support/backends";
import { openSocket, type TestUser } from "./support/session";

function postgresBackend() {
  const found = backends.find((b) => b.name === "postgres");
  if (!found) throw new Error("no postgres backend");
  return found;
}
const postgres = postgresBackend();

async function userOnPostgres(): Promise<TestUser> {
  const ip = `10.9.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const res = await postgres.fetch("/auth/guest", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
    body: JSON.stringify({ display_name: "Pat" }),
  });
  expect(res.status).toBe(201);
  return { ...(await res.json<Omit<TestUser, "ip">>()), ip };
}

describe("a session on the PostgreSQL backend", () => {
  it("streams and stores exchanges turn after turn", async () => {
    const user = await userOnPostgres();
    const created = await postgres.fetch("/chats", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${user.token}`,
        "CF-Connecting-IP": user.ip,
      },
      body: JSON.stringify({ character_id: "chr_sample_marrow_vell" }),
    });
    expect(created.status).toBe(201);
    const chat = await created.json<{ id: string }>();
    const stub = env.USER_SESSION.get(env.USER_SESSION.idFromName(user.user.id));
    await runInDurableObject(stub, (instance: UserSession) => {
      const current = (instance as unknown as { env: Env }).env;
      Object.defineProperty(instance, "env", {
        value: { ...current, DB_BACKEND: "postgres" },
        configurable: true,
      });
    });
    const socket = await openSocket(user);
    for (const turn of [1, 2, 3]) {
      socket.send({ type: "chat.send", chat_id: chat.id, content: `turn ${turn} [[emu:tokens=3]]` });
      const done = await socket.next(
        (f) => f.type === "chat.done" && socket.ofType("chat.done").length === turn,
      );
      expect(done.message.status).toBe("complete");
    }
    expect(socket.ofType("error")).toEqual([]);
    const repo = postgres.repo();
    try {
      const stored = await repo.chats.messages(chat.id, 20);
      expect(stored.map((m) => m.role)).toEqual([
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
      ]);
    } finally {
      await repo.sql.close();
    }
    socket.close();
  });
});
