import { describe, expect, it } from "vitest";
import { api, bearer, json, newGuest, problem } from "./support/api";

interface Character {
  id: string;
  name: string;
  description: string;
  tags: string[];
  is_public: boolean;
  owner_id: string | null;
  chat_count: number;
  greeting: string;
}
interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

const valid = {
  name: "Test Bard",
  description: "Sings of tests.",
  greeting: "Hello {{user}}!",
  tags: ["music"],
};

async function create(token: string, body: Record<string, unknown> = valid) {
  const res = await api("/characters", json(body, { token }));
  expect(res.status).toBe(201);
  return { res, character: await res.json<Character>() };
}

describe("GET /characters", () => {
  it("lists the sample characters to anonymous callers, newest first, with a cursor", async () => {
    const first = await (await api("/characters?limit=5")).json<Page<Character>>();
    expect(first.items).toHaveLength(5);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await (await api(`/characters?limit=5&cursor=${first.next_cursor}`)).json<
      Page<Character>
    >();
    const ids = new Set([...first.items, ...second.items].map((c) => c.id));
    expect(ids.size).toBe(10);
  });

  it("walks every public character exactly once across pages", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(`/characters?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      const page = await res.json<Page<Character>>();
      seen.push(...page.items.map((c) => c.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.length).toBeGreaterThanOrEqual(12);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("filters by tag and by text", async () => {
    const guest = await newGuest();
    const { character } = await create(guest.token, { ...valid, name: "Zyxquor Unique", tags: ["zyxtag"] });
    const byTag = await (await api("/characters?tag=zyxtag", bearer(guest.token))).json<Page<Character>>();
    expect(byTag.items.map((c) => c.id)).toEqual([character.id]);
    const byText = await (await api("/characters?q=ZYXQUOR", bearer(guest.token))).json<Page<Character>>();
    expect(byText.items.map((c) => c.id)).toEqual([character.id]);
  });

  it("treats % and _ in q literally", async () => {
    const res = await (await api("/characters?q=%25%25%25")).json<Page<Character>>();
    expect(res.items).toEqual([]);
  });

  it("shows a private character only to its owner", async () => {
    const owner = await newGuest();
    const other = await newGuest();
    const { character } = await create(owner.token, { ...valid, name: "Secret Sage", tags: ["secretsage"] });
    const mine = await (await api("/characters?tag=secretsage", bearer(owner.token))).json<Page<Character>>();
    expect(mine.items.map((c) => c.id)).toContain(character.id);
    const theirs = await (await api("/characters?tag=secretsage", bearer(other.token))).json<
      Page<Character>
    >();
    expect(theirs.items).toEqual([]);
  });

  it.each(["limit=0", "limit=101", "limit=abc", "cursor=%%%", "cursor=bm90LWpzb24", `tag=${"x".repeat(33)}`])(
    "rejects ?%s with 400",
    async (qs) => {
      const res = await api(`/characters?${qs}`);
      expect(res.status).toBe(400);
      expect((await problem(res)).code).toBe("invalid_request");
    },
  );
});

describe("GET /characters/:id", () => {
  it("returns a public character", async () => {
    const list = await (await api("/characters?limit=1")).json<Page<Character>>();
    const id = list.items[0]?.id;
    const res = await api(`/characters/${id}`);
    expect(res.status).toBe(200);
    expect((await res.json<Character>()).id).toBe(id);
  });

  it("is 404 for an unknown id and for another user's private character", async () => {
    expect((await api("/characters/chr_nope")).status).toBe(404);
    const owner = await newGuest();
    const other = await newGuest();
    const { character } = await create(owner.token);
    expect((await api(`/characters/${character.id}`, bearer(owner.token))).status).toBe(200);
    const res = await api(`/characters/${character.id}`, bearer(other.token));
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("not_found");
    expect((await api(`/characters/${character.id}`)).status).toBe(404);
  });
});

describe("POST /characters", () => {
  it("creates a private character owned by the caller, with Location", async () => {
    const guest = await newGuest();
    const { res, character } = await create(guest.token);
    expect(res.headers.get("Location")).toBe(`/api/v1/characters/${character.id}`);
    expect(character).toMatchObject({ ...valid, owner_id: guest.user.id, is_public: false, chat_count: 0 });
  });

  it("is 401 without a token", async () => {
    expect((await api("/characters", json(valid))).status).toBe(401);
  });

  it.each([
    [{ ...valid, name: "" }, "name"],
    [{ ...valid, name: "n".repeat(81) }, "name"],
    [{ ...valid, description: "d".repeat(2001) }, "description"],
    [{ ...valid, personality: "p".repeat(4001) }, "personality"],
    [{ ...valid, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, "tags"],
    [{ ...valid, tags: ["x".repeat(33)] }, "tags.0"],
    [{ ...valid, tags: "music" }, "tags"],
    [{ ...valid, is_public: "yes" }, "is_public"],
    [{ ...valid, avatar_url: "javascript:alert(1)" }, "avatar_url"],
    [{ ...valid, owner_id: "usr_someone" }, "(root)"],
  ])("rejects %j with 400 naming %s", async (body, path) => {
    const guest = await newGuest();
    const res = await api("/characters", json(body, { token: guest.token }));
    expect(res.status).toBe(400);
    expect((await problem(res)).errors?.map((e) => e.path)).toContain(path);
  });

  it("is 415 for a non-JSON body and 413 for an oversized one", async () => {
    const guest = await newGuest();
    const text = await api("/characters", {
      method: "POST",
      body: "name=x",
      headers: { Authorization: `Bearer ${guest.token}`, "Content-Type": "text/plain" },
    });
    expect(text.status).toBe(415);
    const big = await api(
      "/characters",
      // Past the body limit, which leaves room for a 256 KiB lorebook.
      json({ ...valid, description: "x".repeat(400 * 1024) }, { token: guest.token }),
    );
    expect(big.status).toBe(413);
    expect((await problem(big)).code).toBe("payload_too_large");
  });
});

describe("PATCH and DELETE /characters/:id", () => {
  it("lets the owner change fields and tags", async () => {
    const guest = await newGuest();
    const { character } = await create(guest.token);
    const res = await api(
      `/characters/${character.id}`,
      json(
        { name: "Renamed", tags: ["patchedtag"], is_public: true },
        { token: guest.token, method: "PATCH" },
      ),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: "Renamed", tags: ["patchedtag"], is_public: true });
    const byTag = await (await api("/characters?tag=patchedtag")).json<Page<Character>>();
    expect(byTag.items.map((c) => c.id)).toEqual([character.id]);
    const oldTag = await (await api("/characters?tag=music", bearer(guest.token))).json<Page<Character>>();
    expect(oldTag.items.map((c) => c.id)).not.toContain(character.id);
  });

  it("is 404 for another user's character and changes nothing", async () => {
    const owner = await newGuest();
    const other = await newGuest();
    const { character } = await create(owner.token, { ...valid, is_public: true });
    const patch = await api(
      `/characters/${character.id}`,
      json({ name: "Hijacked" }, { token: other.token, method: "PATCH" }),
    );
    expect(patch.status).toBe(404);
    const del = await api(`/characters/${character.id}`, bearer(other.token, { method: "DELETE" }));
    expect(del.status).toBe(404);
    expect(await (await api(`/characters/${character.id}`)).json()).toMatchObject({ name: valid.name });
  });

  it("rejects an empty patch and unknown fields", async () => {
    const guest = await newGuest();
    const { character } = await create(guest.token);
    for (const body of [{}, { chat_count: 999 }]) {
      const res = await api(
        `/characters/${character.id}`,
        json(body, { token: guest.token, method: "PATCH" }),
      );
      expect(res.status).toBe(400);
    }
  });

  it("deletes the owner's character", async () => {
    const guest = await newGuest();
    const { character } = await create(guest.token);
    expect((await api(`/characters/${character.id}`, bearer(guest.token, { method: "DELETE" }))).status).toBe(
      204,
    );
    expect((await api(`/characters/${character.id}`, bearer(guest.token))).status).toBe(404);
  });
});
