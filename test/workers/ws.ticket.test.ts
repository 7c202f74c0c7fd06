import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { issueTicket } from "../../src/realtime/ws-ticket";
import { ORIGIN } from "./support/api";
import { newUser, type TestUser } from "./support/session";

// Issue 16.10: the bearer token rode in the socket URL (and the browser console logged it).

async function ticketFor(user: TestUser): Promise<string> {
  const res = await SELF.fetch(`${ORIGIN}/api/v1/ws/ticket`, {
    method: "POST",
    headers: { Authorization: `Bearer ${user.token}` },
  });
  expect(res.status).toBe(200);
  const body = await res.json<{ ticket: string; expires_in: number }>();
  expect(body.expires_in).toBe(30);
  expect(body.ticket).not.toContain(user.token);
  return body.ticket;
}

function openWith(ticket: string) {
  return SELF.fetch(`${ORIGIN}/api/v1/ws?ticket=${encodeURIComponent(ticket)}`, {
    headers: { Upgrade: "websocket", "CF-Connecting-IP": `10.9.${Math.floor(Math.random() * 250)}.1` },
  });
}

async function accepted(res: Response) {
  expect(res.status).toBe(101);
  res.webSocket?.accept();
  res.webSocket?.close(1000, "bye");
}

async function refused(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("Content-Type")).toContain("application/problem+json");
  expect(await res.json()).toMatchObject({ code: "unauthorized" });
}

const secret = () => (env as unknown as { JWT_SECRET: string }).JWT_SECRET;

describe("WebSocket tickets", () => {
  it("open the user's socket once: the same ticket replayed is refused", async () => {
    const user = await newUser();
    const ticket = await ticketFor(user);
    await accepted(await openWith(ticket));
    await refused(await openWith(ticket));
    // A fresh ticket works again.
    await accepted(await openWith(await ticketFor(user)));
  });

  it("expire after 30 s", async () => {
    const user = await newUser();
    const old = await issueTicket(secret(), user.user.id, Date.now() - 31_000);
    await refused(await openWith(old));
  });

  it("belong to the user they were issued to: a ticket edited to name another user is refused", async () => {
    const [ann, bob] = await Promise.all([newUser(), newUser("Bob")]);
    const ticket = await ticketFor(ann);
    const [body, mac] = ticket.split(".");
    const claims = JSON.parse(atob((body ?? "").replaceAll("-", "+").replaceAll("_", "/")));
    const forged = btoa(JSON.stringify({ ...claims, sub: bob.user.id }))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
    await refused(await openWith(`${forged}.${mac}`));
    // Signed with another secret: refused too.
    await refused(
      await openWith(await issueTicket("another-secret-0123456789abcdef0123", ann.user.id, Date.now())),
    );
    await refused(await openWith("garbage"));
  });

  it("are issued only to a signed-in caller", async () => {
    const res = await SELF.fetch(`${ORIGIN}/api/v1/ws/ticket`, { method: "POST" });
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });

  it("leave ?token= and the Authorization header working for other clients", async () => {
    const user = await newUser();
    const headers = { Upgrade: "websocket", "CF-Connecting-IP": "10.8.0.1" };
    await accepted(
      await SELF.fetch(`${ORIGIN}/api/v1/ws?token=${encodeURIComponent(user.token)}`, { headers }),
    );
    await accepted(
      await SELF.fetch(`${ORIGIN}/api/v1/ws`, {
        headers: { ...headers, Authorization: `Bearer ${user.token}` },
      }),
    );
  });
});
