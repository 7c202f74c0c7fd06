import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN } from "./support/api";

// Issue 16.11: the SPA fallback answered every unknown path with 200 text/html.
describe("paths outside the API", () => {
  it.each(["/favicon.ico", "/wp-login.php", "/no/such/page", "/robots.txt", "/characters"])(
    "%s is a 404 problem, not the web client",
    async (path) => {
      const res = await SELF.fetch(`${ORIGIN}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      expect(await res.json()).toMatchObject({ code: "not_found" });
    },
  );

  it.each(["/", "/chats", "/chats/cht_nope", "/characters/chr_nope", "/generate", "/gallery"])(
    "the app's own path %s gets the client's index.html",
    async (path) => {
      const res = await SELF.fetch(`${ORIGIN}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toContain("text/html");
      expect(await res.text()).toContain('<script type="module"');
    },
  );
});
