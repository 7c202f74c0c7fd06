import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { addPasskey, loginOptions, type SignedIn, send, WEB_ORIGIN } from "./support/accounts-http";
import { backends } from "./support/backends";
import { openSocket, socketsSettled, TestSocket } from "./support/session";

const d1 = backends.find((b) => b.name === "d1");
if (!d1) throw new Error("no d1 backend");
const { fetch } = d1;

async function closedWithin(socket: TestSocket, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!socket.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return socket.closed !== null;
}

/** A user signed in twice (a guest session and a passkey login): two sessions, one socket each. */
async function twoSessions(): Promise<[SignedIn, SignedIn]> {
  const res = await fetch("/auth/guest", send(null, { display_name: "Two" }));
  const first = await res.json<SignedIn>();
  const { authenticator } = await addPasskey(fetch, first);
  const response = await authenticator.login(await loginOptions(fetch), { origin: WEB_ORIGIN });
  const second = await (await fetch("/auth/passkeys/login", send(null, { response }))).json<SignedIn>();
  return [first, second];
}

describe("ending a session closes its sockets, and only its sockets", () => {
  afterEach(() => socketsSettled());

  it("logout closes the caller's socket at once; the other session's stays open", async () => {
    const [first, second] = await twoSessions();
    const mine = await openSocket({ ...first, ip: "10.9.0.1" });
    const theirs = await openSocket({ ...second, ip: "10.9.0.2" });

    expect((await fetch("/auth/logout", send(first.token))).status).toBe(204);
    expect(await closedWithin(mine)).toBe(true);
    expect(mine.closed?.code).toBe(1008);
    theirs.send({ type: "ping" });
    await theirs.nextOf("pong");
    expect(theirs.closed).toBeNull();
    theirs.close();
    expect(await closedWithin(theirs)).toBe(true);
  });

  it("logout closes a socket opened with a ticket (as the web client opens them)", async () => {
    const [first] = await twoSessions();
    const { ticket } = await (await fetch("/ws/ticket", send(first.token))).json<{ ticket: string }>();
    const res = await SELF.fetch(`http://127.0.0.1:8787/api/v1/ws?ticket=${encodeURIComponent(ticket)}`, {
      headers: { Upgrade: "websocket", "CF-Connecting-IP": "10.9.0.9" },
    });
    expect(res.status).toBe(101);
    const raw = res.webSocket;
    if (!raw) throw new Error("no webSocket on the 101 response");
    raw.accept();
    const socket = new TestSocket(raw);

    expect((await fetch("/auth/logout", send(first.token))).status).toBe(204);
    expect(await closedWithin(socket)).toBe(true);
    expect(socket.closed?.code).toBe(1008);
  });

  it("DELETE /me/sessions/:id closes that session's socket", async () => {
    const [first, second] = await twoSessions();
    const victim = await openSocket({ ...first, ip: "10.9.0.3" });
    const list = await (await fetch("/me/sessions", send(second.token, undefined, "GET"))).json<{
      items: { id: string; current: boolean }[];
    }>();
    const other = list.items.find((s) => !s.current);
    expect((await fetch(`/me/sessions/${other?.id}`, send(second.token, undefined, "DELETE"))).status).toBe(
      204,
    );
    expect(await closedWithin(victim)).toBe(true);
  });

  it("DELETE /me closes every socket of the user", async () => {
    const [first, second] = await twoSessions();
    const a = await openSocket({ ...first, ip: "10.9.0.4" });
    const b = await openSocket({ ...second, ip: "10.9.0.5" });
    expect((await fetch("/me", send(first.token, undefined, "DELETE"))).status).toBe(204);
    expect(await closedWithin(a)).toBe(true);
    expect(await closedWithin(b)).toBe(true);
  });
});
