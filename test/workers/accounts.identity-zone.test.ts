import { describe, expect, it } from "vitest";
import { appWith, uniqueIp } from "./rate-limit.support";

// Zone `identity` (API.md): new identities per client address, GUEST_PER_IP_PER_HOUR a bucket
// refilling over an hour; /auth/guest takes from `strict` as well.
// GUEST_PER_IP_PER_HOUR is not in wrangler.toml's vars, so Env's generated type lacks it.
const fetchApp = appWith({
  GUEST_PER_IP_PER_HOUR: "2",
  RATE_STRICT_BURST: "50",
  RATE_STRICT_PER_S: "1",
} as Parameters<typeof appWith>[0]);

describe("zone identity", () => {
  it("lets GUEST_PER_IP_PER_HOUR sign-ins through, then 429s every sign-in route with Retry-After", async () => {
    const ip = uniqueIp();
    const post = (path: string) => fetchApp(`/api/v1${path}`, { method: "POST", ip });
    const first = await post("/auth/guest");
    expect(first.status).toBe(201);
    // The tighter bucket names the headers: identity's 2 rather than strict's 50.
    expect(first.headers.get("RateLimit-Limit")).toBe("2");
    expect((await post("/auth/guest")).status).toBe(201);

    const refused = await post("/auth/guest");
    expect(refused.status).toBe(429);
    expect((await refused.json<{ code: string }>()).code).toBe("rate_limited");
    // One token an hour at a rate of 2/3600 per second: half an hour away.
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(1000);
    expect((await post("/auth/passkeys/login/options")).status).toBe(429);

    // Another address has its own bucket.
    expect((await fetchApp("/api/v1/auth/guest", { method: "POST", ip: uniqueIp() })).status).toBe(201);
  });
});
