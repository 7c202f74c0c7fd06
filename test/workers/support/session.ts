import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { sessionStats } from "../../../src/ops/sockets/report";

const ORIGIN = "http://127.0.0.1:8787";

/** A client address per test user, so the per-IP rate limits of one test never meet another's. */
function randomIp(): string {
  const octet = () => 1 + Math.floor(Math.random() * 254);
  return `10.${octet()}.${octet()}.${octet()}`;
}

export interface TestUser {
  token: string;
  user: { id: string; display_name: string };
  ip: string;
}

export interface Chat {
  id: string;
  character_id: string;
  title: string;
  created_at: string;
  last_message_at: string;
}

export interface Message {
  id: string;
  chat_id: string;
  role: "user" | "assistant";
  content: string;
  status: "complete" | "cancelled" | "failed";
  created_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Calls the Worker as `user` (bearer token and client address). */
export function call(user: TestUser | null, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  headers.set("CF-Connecting-IP", user?.ip ?? randomIp());
  if (user) headers.set("Authorization", `Bearer ${user.token}`);
  const { json, ...rest } = init;
  if (json !== undefined) headers.set("Content-Type", "application/json");
  return SELF.fetch(`${ORIGIN}/api/v1${path}`, {
    ...rest,
    headers,
    ...(json !== undefined ? { method: rest.method ?? "POST", body: JSON.stringify(json) } : {}),
  });
}

export async function newUser(displayName = "Ann"): Promise<TestUser> {
  const ip = randomIp();
  const res = await SELF.fetch(`${ORIGIN}/api/v1/auth/guest`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
    body: JSON.stringify({ display_name: displayName }),
  });
  expect(res.status).toBe(201);
  const body = await res.json<{ token: string; user: TestUser["user"] }>();
  return { ...body, ip };
}

export async function newCharacter(
  owner: TestUser,
  fields: Record<string, unknown> = {},
): Promise<{ id: string; name: string }> {
  const res = await call(owner, "/characters", {
    json: { name: "Tester Bard", greeting: "Well met, {{user}}! I am <BOT>.", ...fields },
  });
  expect(res.status).toBe(201);
  return res.json();
}

export async function newChat(owner: TestUser, characterId: string): Promise<Chat> {
  const res = await call(owner, "/chats", { json: { character_id: characterId } });
  expect(res.status).toBe(201);
  return res.json();
}

export async function messagesOf(owner: TestUser, chatId: string, query = ""): Promise<Page<Message>> {
  const res = await call(owner, `/chats/${chatId}/messages${query}`);
  expect(res.status).toBe(200);
  return res.json();
}

// biome-ignore lint/suspicious/noExplicitAny: frames are whatever the server sent
export type Frame = Record<string, any> & { type: string };

/** A test client socket that records every frame and lets a test wait for one. */
export class TestSocket {
  readonly frames: Frame[] = [];
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data as string) as Frame;
      this.frames.push(frame);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(frame)) {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          waiter.resolve(frame);
        }
      }
    });
    socket.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or still to come) matching `match`. */
  next(match: (frame: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.match !== match);
        reject(
          new Error(
            `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.map((f) => f.type))}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      });
    });
  }

  /** Waits for a frame of `type` (optionally of one chat). */
  nextOf(type: string, chatId?: string, timeoutMs?: number): Promise<Frame> {
    return this.next(
      (f) =>
        f.type === type && (chatId === undefined || f.chat_id === chatId || f.message?.chat_id === chatId),
      timeoutMs,
    );
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  close(): void {
    try {
      this.socket.close(1000, "test done");
    } catch {
      // already closed
    }
  }
}

/** Opens the real-time session through the Worker (token in `?token=` unless `via: "header"`). */
export async function openSocket(user: TestUser, via: "query" | "header" = "query"): Promise<TestSocket> {
  const res = await upgrade(user, via);
  expect(res.status).toBe(101);
  const socket = res.webSocket;
  if (!socket) throw new Error("no webSocket on the 101 response");
  socket.accept();
  return new TestSocket(socket);
}

/** The raw upgrade request. */
export function upgrade(
  user: TestUser | { token: string; ip?: string },
  via: "query" | "header" | "none" = "query",
) {
  const headers = new Headers({ Upgrade: "websocket", "CF-Connecting-IP": user.ip ?? randomIp() });
  if (via === "header") headers.set("Authorization", `Bearer ${user.token}`);
  const query = via === "query" ? `?token=${encodeURIComponent(user.token)}` : "";
  return SELF.fetch(`${ORIGIN}/api/v1/ws${query}`, { headers });
}

/**
 * Waits until every socket the test opened is closed on the server side and reported
 * (`UserSession` reports each close to `SessionStats` in `waitUntil`). A test file that ends
 * while such work is still in flight tears down the pool under it ("Closing rpc while ... pending").
 */
export async function socketsSettled(timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { open } = await sessionStats(env).totals();
    if (open === 0) return;
    if (Date.now() > until) throw new Error(`${open} socket(s) still open ${timeoutMs} ms after the test`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
