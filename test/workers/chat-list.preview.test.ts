import { describe, expect, it } from "vitest";
import { api, bearer, json, newGuest } from "./support/api";

interface Row {
  id: string;
  last_message_preview: string | null;
}

// Issue 16.7: two identical rows "Harlan Voss ... started ... ago" could not be told apart.
describe("GET /chats", () => {
  it("gives each row the first 120 characters of its last message, or null before any", async () => {
    const guest = await newGuest("Ann");
    const greeted = await (
      await api("/chats", json({ character_id: "chr_sample_harlan_voss" }, { token: guest.token }))
    ).json<{ id: string }>();
    const character = await (
      await api("/characters", json({ name: "Quiet One", greeting: "" }, { token: guest.token }))
    ).json<{ id: string }>();
    const silent = await (
      await api("/chats", json({ character_id: character.id }, { token: guest.token }))
    ).json<{ id: string }>();

    const { items } = await (await api("/chats", bearer(guest.token))).json<{ items: Row[] }>();
    const preview = items.find((row) => row.id === greeted.id)?.last_message_preview;
    expect(preview).toMatch(/^Door's open, Ann, on account of the lock/);
    expect(preview?.length).toBe(120);
    expect(items.find((row) => row.id === silent.id)?.last_message_preview).toBeNull();
  });
});
