import { describe, expect, it } from "vitest";
import {
  addPasskey,
  bucketKeys,
  del,
  get,
  guestOn,
  loginOptions,
  ownedIds,
  rowsPerTable,
  type SignedIn,
  seedJobWithImage,
  send,
  WEB_ORIGIN,
} from "./support/accounts-http";
import { problem } from "./support/api";
import { backends } from "./support/backends";
import { SoftAuthenticator } from "./support/soft-authenticator";

// Issue 14 over HTTP, on D1 and on PostgreSQL: sessions, passkeys (with a software
// authenticator making real WebAuthn payloads), guest merge, PATCH/DELETE /me and export.

describe.each(backends)("accounts over HTTP on $name", ({ fetch, repo: openRepo }) => {
  const login = async (
    authenticator: SoftAuthenticator,
    token: string | null = null,
    origin = WEB_ORIGIN,
  ) => {
    const response = await authenticator.login(await loginOptions(fetch), { origin });
    return fetch("/auth/passkeys/login", send(token, { response }));
  };

  describe("sessions", () => {
    it("rotates the refresh token, and a reused one revokes the whole family", async () => {
      const guest = await guestOn(fetch);
      const first = await fetch("/auth/refresh", send(null, { refresh_token: guest.refresh_token }));
      expect(first.status).toBe(200);
      const rotated = await first.json<SignedIn>();
      expect(rotated.refresh_token).not.toBe(guest.refresh_token);
      expect(rotated.user.id).toBe(guest.user.id);
      expect((await fetch("/me", get(rotated.token))).status).toBe(200);

      // The spent token comes back (stolen, or a second tab): the session ends for everyone.
      const reuse = await fetch("/auth/refresh", send(null, { refresh_token: guest.refresh_token }));
      expect(reuse.status).toBe(401);
      expect((await problem(reuse)).code).toBe("unauthorized");
      const after = await fetch("/auth/refresh", send(null, { refresh_token: rotated.refresh_token }));
      expect(after.status).toBe(401);
      const list = await fetch("/me/sessions", get(rotated.token));
      expect((await list.json<{ items: unknown[] }>()).items).toEqual([]);
    });

    it("lists sessions with the current one marked; logout and revocation stop refresh tokens", async () => {
      const guest = await guestOn(fetch);
      const other = await (
        await fetch("/auth/refresh", send(null, { refresh_token: guest.refresh_token }))
      ).json<SignedIn>();
      // A second session of the same user: a passkey login on another device.
      const { authenticator } = await addPasskey(fetch, other);
      const second = await (await login(authenticator)).json<SignedIn>();

      const list = await fetch("/me/sessions", get(second.token));
      const items = (await list.json<{ items: { id: string; current: boolean }[] }>()).items;
      expect(items).toHaveLength(2);
      expect(items.filter((s) => s.current)).toHaveLength(1);
      const firstSession = items.find((s) => !s.current);
      if (!firstSession) throw new Error("no other session");

      expect((await fetch(`/me/sessions/${firstSession.id}`, del(second.token))).status).toBe(204);
      expect((await fetch("/auth/refresh", send(null, { refresh_token: other.refresh_token }))).status).toBe(
        401,
      );
      expect((await fetch(`/me/sessions/${firstSession.id}`, del(second.token))).status).toBe(404);

      expect((await fetch("/auth/logout", send(second.token))).status).toBe(204);
      expect((await fetch("/auth/refresh", send(null, { refresh_token: second.refresh_token }))).status).toBe(
        401,
      );
    });

    it("will not revoke another user's session", async () => {
      const alice = await guestOn(fetch, "Alice");
      const bob = await guestOn(fetch, "Bob");
      const bobs = (await (await fetch("/me/sessions", get(bob.token))).json<{ items: { id: string }[] }>())
        .items;
      const res = await fetch(`/me/sessions/${bobs[0]?.id}`, del(alice.token));
      expect(res.status).toBe(404);
      expect((await fetch("/auth/refresh", send(null, { refresh_token: bob.refresh_token }))).status).toBe(
        200,
      );
    });

    it("refuses a malformed refresh body with 400", async () => {
      const res = await fetch("/auth/refresh", send(null, { refresh_token: 42 }));
      expect(res.status).toBe(400);
      expect((await problem(res)).errors?.[0]?.path).toBe("refresh_token");
    });
  });

  describe("passkeys", () => {
    it("registers (the guest becomes an account and keeps its things) and logs in on another device", async () => {
      const guest = await guestOn(fetch);
      const character = await fetch("/characters", send(guest.token, { name: "Kept" }));
      expect(character.status).toBe(201);
      const { authenticator, passkey } = await addPasskey(fetch, guest, "Phone");
      expect(passkey.name).toBe("Phone");
      const me = await (await fetch("/me", get(guest.token))).json<{ user: SignedIn["user"] }>();
      expect(me.user.kind).toBe("account");

      const res = await login(authenticator);
      expect(res.status).toBe(200);
      const signedIn = await res.json<SignedIn & { merged?: unknown }>();
      expect(signedIn.user).toMatchObject({ id: guest.user.id, kind: "account" });
      expect(signedIn.merged).toBeUndefined();
      const kept = await character.json<{ id: string }>();
      const mine = await fetch(`/characters/${kept.id}`, get(signedIn.token));
      expect((await mine.json<{ name: string; owner_id: string }>()).owner_id).toBe(guest.user.id);

      const list = await (await fetch("/me/passkeys", get(signedIn.token))).json<{
        items: { id: string; last_used_at: string | null }[];
      }>();
      expect(list.items).toHaveLength(1);
      expect(list.items[0]?.last_used_at).not.toBeNull();
      // The account's only passkey: deleting it would lock the account out.
      const last = await fetch(`/me/passkeys/${passkey.id}`, del(signedIn.token));
      expect(last.status).toBe(409);
      expect((await problem(last)).code).toBe("conflict");
    });

    it("merges a guest's characters, chats and generations into the account it signs into", async () => {
      const account = await guestOn(fetch, "Owner");
      const { authenticator } = await addPasskey(fetch, account);

      const guest = await guestOn(fetch, "Visitor");
      const character = await (
        await fetch("/characters", send(guest.token, { name: "Moved", greeting: "Hi" }))
      ).json<{ id: string }>();
      const chat = await fetch("/chats", send(guest.token, { character_id: character.id }));
      expect(chat.status).toBe(201);
      const repo = openRepo();
      try {
        await seedJobWithImage(repo, guest.user.id);
        await seedJobWithImage(repo, guest.user.id);
        const res = await login(authenticator, guest.token);
        expect(res.status).toBe(200);
        const body = await res.json<SignedIn & { merged: unknown }>();
        expect(body.user.id).toBe(account.user.id);
        expect(body.merged).toEqual({ characters: 1, chats: 1, generations: 2 });

        const chats = await (await fetch("/chats", get(body.token))).json<{ items: { id: string }[] }>();
        expect(chats.items.map((c) => c.id)).toEqual([(await chat.json<{ id: string }>()).id]);
        const messages = await fetch(`/chats/${chats.items[0]?.id}/messages`, get(body.token));
        expect((await messages.json<{ items: unknown[] }>()).items).toHaveLength(1);
        // The guest is gone: its token names no user.
        expect((await fetch("/me", get(guest.token))).status).toBe(401);
        expect(await rowsPerTable(repo, await ownedIds(repo, guest.user.id))).toMatchObject({ users: 0 });
      } finally {
        await repo.sql.close();
      }
    });

    describe("refusals (401, nothing signed in)", () => {
      it("refuses a registration made for another origin or relying party", async () => {
        const guest = await guestOn(fetch);
        for (const overrides of [
          { origin: "https://art-example.evil" },
          { origin: WEB_ORIGIN, rpId: "evil.example" },
        ]) {
          const options = await (await fetch("/auth/passkeys/register/options", send(guest.token))).json();
          const response = await (await SoftAuthenticator.create()).register(options as never, overrides);
          const res = await fetch("/auth/passkeys/register", send(guest.token, { response }));
          expect(res.status).toBe(401);
        }
        const list = await (await fetch("/me/passkeys", get(guest.token))).json<{ items: unknown[] }>();
        expect(list.items).toEqual([]);
        const me = await (await fetch("/me", get(guest.token))).json<{ user: { kind: string } }>();
        expect(me.user.kind).toBe("guest");
      });

      it("refuses a login from another origin, another RP, a replayed challenge, a counter going backwards", async () => {
        const account = await guestOn(fetch);
        const { authenticator } = await addPasskey(fetch, account);

        expect((await login(authenticator, null, "https://art-example.evil")).status).toBe(401);
        const wrongRp = await authenticator.login(await loginOptions(fetch), {
          origin: WEB_ORIGIN,
          rpId: "evil.example",
        });
        expect((await fetch("/auth/passkeys/login", send(null, { response: wrongRp }))).status).toBe(401);

        const response = await authenticator.login(await loginOptions(fetch), {
          origin: WEB_ORIGIN,
          counter: 10,
        });
        expect((await fetch("/auth/passkeys/login", send(null, { response }))).status).toBe(200);
        const replayed = await fetch("/auth/passkeys/login", send(null, { response }));
        expect(replayed.status).toBe(401);
        expect((await problem(replayed)).detail).toMatch(/already used/);

        const backwards = await authenticator.login(await loginOptions(fetch), {
          origin: WEB_ORIGIN,
          counter: 5,
        });
        const res = await fetch("/auth/passkeys/login", send(null, { response: backwards }));
        expect(res.status).toBe(401);
        expect((await problem(res)).detail).toMatch(/counter/i);
      });

      it("refuses an unknown credential and a deleted passkey", async () => {
        expect((await login(await SoftAuthenticator.create())).status).toBe(401);

        const account = await guestOn(fetch);
        const first = await addPasskey(fetch, account, "Old");
        const second = await addPasskey(fetch, account, "New");
        expect((await fetch(`/me/passkeys/${first.passkey.id}`, del(account.token))).status).toBe(204);
        const res = await login(first.authenticator);
        expect(res.status).toBe(401);
        expect((await problem(res)).detail).toMatch(/not registered/);
        expect((await login(second.authenticator)).status).toBe(200);
      });

      it("refuses registering one authenticator twice and a malformed response (400)", async () => {
        const guest = await guestOn(fetch);
        const { authenticator } = await addPasskey(fetch, guest);
        const options = await (await fetch("/auth/passkeys/register/options", send(guest.token))).json();
        // The options exclude it; a client that ignores that is refused all the same.
        const again = await authenticator.register(options as never, { origin: WEB_ORIGIN });
        expect((await fetch("/auth/passkeys/register", send(guest.token, { response: again }))).status).toBe(
          409,
        );
        const bad = await fetch("/auth/passkeys/login", send(null, { response: { id: "x" } }));
        expect(bad.status).toBe(400);
      });
    });
  });

  describe("a person's data", () => {
    it("PATCH /me sets and clears the persona and refuses bad input", async () => {
      const guest = await guestOn(fetch);
      const persona = { name: "Wren", description: "A cartographer." };
      const res = await fetch("/me", send(guest.token, { display_name: "Wren W.", persona }, "PATCH"));
      expect(res.status).toBe(200);
      // API.md: "-> 200 user", the user itself.
      expect(await res.json()).toMatchObject({ display_name: "Wren W.", persona });
      for (const body of [
        { persona: { name: "", description: "" } },
        { persona: { name: "x", description: "d".repeat(2001) } },
        { kind: "account" },
      ]) {
        expect((await fetch("/me", send(guest.token, body, "PATCH"))).status).toBe(400);
      }
      const cleared = await fetch("/me", send(guest.token, { persona: null }, "PATCH"));
      expect(await cleared.json()).toMatchObject({ persona: null, display_name: "Wren W." });
    });

    it("GET /me/export gives every record of the user, one a line, and no secrets", async () => {
      const guest = await guestOn(fetch);
      await addPasskey(fetch, guest);
      const character = await (
        await fetch("/characters", send(guest.token, { name: "Exported", greeting: "Hello" }))
      ).json<{ id: string }>();
      expect((await fetch("/chats", send(guest.token, { character_id: character.id }))).status).toBe(201);
      const repo = openRepo();
      try {
        await seedJobWithImage(repo, guest.user.id);
      } finally {
        await repo.sql.close();
      }
      const res = await fetch("/me/export", get(guest.token));
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^application\/x-ndjson/);
      const text = await res.text();
      const records = text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string });
      expect(records.map((r) => r.type).sort()).toEqual(
        ["character", "chat", "generation", "message", "passkey", "session", "user"].sort(),
      );
      expect(text).not.toMatch(/refresh_hash|public_key|credential_id/);
      expect(text).not.toContain(guest.refresh_token.slice(3));
    });

    it("DELETE /me leaves no row in any table and no object in the bucket, and its tokens stop", async () => {
      const guest = await guestOn(fetch);
      await addPasskey(fetch, guest);
      const character = await (
        await fetch(
          "/characters",
          send(guest.token, { name: "Doomed", greeting: "Farewell", tags: ["gone"] }),
        )
      ).json<{ id: string }>();
      expect((await fetch("/chats", send(guest.token, { character_id: character.id }))).status).toBe(201);
      await fetch("/auth/passkeys/register/options", send(guest.token)); // a challenge left waiting
      const bystander = await guestOn(fetch, "Bystander");
      const repo = openRepo();
      try {
        const { key } = await seedJobWithImage(repo, guest.user.id);
        const kept = await seedJobWithImage(repo, bystander.user.id);
        const owned = await ownedIds(repo, guest.user.id);
        const before = await rowsPerTable(repo, owned);
        for (const table of [
          "users",
          "characters",
          "character_tags",
          "chats",
          "chat_history",
          "image_generation_history",
          "idempotency_keys",
          "credit_usage",
          "sessions",
          "webauthn_challenges",
          "passkeys",
        ])
          expect(before[table], table).toBeGreaterThan(0);
        expect(await bucketKeys()).toContain(key);

        expect((await fetch("/me", del(guest.token))).status).toBe(204);

        const after = await rowsPerTable(repo, owned);
        expect(
          Object.values(after).every((n) => n === 0),
          JSON.stringify(after),
        ).toBe(true);
        const keys = await bucketKeys();
        expect(keys.filter((k) => owned.jobs.some((job) => k.includes(job)))).toEqual([]);
        expect(keys).toContain(kept.key);
        expect((await fetch("/me", get(guest.token))).status).toBe(401);
        expect(
          (await fetch("/auth/refresh", send(null, { refresh_token: guest.refresh_token }))).status,
        ).toBe(401);
        expect((await fetch("/me", get(bystander.token))).status).toBe(200);
      } finally {
        await repo.sql.close();
      }
    });
  });
});
