import { env } from "cloudflare:test";
import { expect, it } from "vitest";
it("has D1", async () => {
  const r = await env.DB.prepare("select 1 as x").first();
  expect(r).toEqual({ x: 1 });
});
