import { describe, expect, it } from "vitest";
import { api, bearer, json, newGuest } from "./support/api";

// Issue 16.4: "Door's open, Guest bvy10y, ... Harlan Voss, Private Investigator nods".

async function greetingOf(token: string, characterId: string): Promise<string> {
  const created = await api("/chats", json({ character_id: characterId }, { token }));
  expect(created.status).toBe(201);
  const { id } = await created.json<{ id: string }>();
  const page = await (await api(`/chats/${id}/messages`, bearer(token))).json<{
    items: { role: string; content: string }[];
  }>();
  return page.items.find((m) => m.role === "assistant")?.content ?? "";
}

describe("the names in a greeting", () => {
  it("call a guest without a name 'you', never its generated id, and the character by name without title", async () => {
    const guest = await newGuest();
    expect(guest.user.display_name).toMatch(/^Guest [0-9a-z]{6}$/);
    const greeting = await greetingOf(guest.token, "chr_sample_harlan_voss");
    expect(greeting).toMatch(/^Door's open, you, on account/);
    expect(greeting).toContain("*Harlan Voss nods at the client chair.*");
    expect(greeting).not.toContain(guest.user.display_name);
    expect(greeting).not.toContain("Private Investigator");
  });

  it("use the name a user chose", async () => {
    const ann = await newGuest("Ann");
    expect(await greetingOf(ann.token, "chr_sample_harlan_voss")).toMatch(/^Door's open, Ann, on account/);
  });

  it("keep a name without a comma whole", async () => {
    const guest = await newGuest("Bo");
    const created = await api(
      "/characters",
      json(
        { name: "Sir Thistle (Hedgehog)", greeting: "{{char}} bows to {{user}}." },
        { token: guest.token },
      ),
    );
    const { id } = await created.json<{ id: string }>();
    expect(await greetingOf(guest.token, id)).toBe("Sir Thistle (Hedgehog) bows to Bo.");
  });
});
