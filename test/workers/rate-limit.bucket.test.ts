import { describe, expect, it } from "vitest";
import { clientKey, normaliseAddress, UNKNOWN_CLIENT } from "../../src/rate-limit/client-ip";
import { type Bucket, take } from "../../src/rate-limit/token-bucket";

const API = { ratePerS: 20, burst: 40 };
const T0 = 1_700_000_000_000;

/** Takes `n` tokens one by one at `nowMs`; returns the bucket and how many passed. */
function drain(bucket: Bucket | undefined, rule: typeof API, n: number, nowMs: number) {
  let state = bucket;
  let passed = 0;
  for (let i = 0; i < n; i++) {
    const { bucket: next, result } = take(state, rule, 1, nowMs);
    state = next;
    if (result.allowed) passed += 1;
  }
  return { bucket: state, passed };
}

describe("token bucket", () => {
  it("lets exactly `burst` requests through a full bucket at once and refuses the next", () => {
    const { bucket, passed } = drain(undefined, API, 40, T0);
    expect(passed).toBe(40);
    const { result } = take(bucket, API, 1, T0);
    expect(result).toEqual({ allowed: false, limit: 40, remaining: 0, resetS: 2, retryAfterS: 1 });
  });

  it("refills continuously at the zone's rate", () => {
    const empty = drain(undefined, API, 40, T0).bucket;
    // 20/s: one token every 50 ms; 49 ms is not enough.
    expect(take(empty, API, 1, T0 + 49).result.allowed).toBe(false);
    expect(take(empty, API, 1, T0 + 50).result).toMatchObject({ allowed: true, remaining: 0 });
    // Half a second buys exactly ten requests.
    expect(drain(empty, API, 11, T0 + 500).passed).toBe(10);
    // Refill stops at the burst.
    expect(drain(empty, API, 41, T0 + 60_000).passed).toBe(40);
  });

  it("reports whole seconds until full and until the next token", () => {
    const slow = { ratePerS: 0.3, burst: 2 };
    const empty = drain(undefined, slow, 2, T0).bucket;
    const refused = take(empty, slow, 1, T0).result;
    expect(refused.retryAfterS).toBe(4); // 1 / 0.3 = 3.33 s
    expect(refused.resetS).toBe(7); // 2 / 0.3 = 6.67 s
    expect(take(empty, slow, 1, T0 + 1000).result.retryAfterS).toBe(3); // 0.7 / 0.3 = 2.33 s
    expect(take(undefined, slow, 1, T0).result).toMatchObject({ remaining: 1, resetS: 4, retryAfterS: 0 });
    expect(take(undefined, API, 1, T0).result.resetS).toBe(1);
  });

  it("never reports a Retry-After below one second", () => {
    const fast = { ratePerS: 1000, burst: 1 };
    const empty = take(undefined, fast, 1, T0).bucket;
    expect(take(empty, fast, 1, T0).result.retryAfterS).toBe(1);
  });

  it("mints no tokens when the clock goes backwards", () => {
    const empty = drain(undefined, API, 40, T0).bucket;
    expect(take(empty, API, 1, T0 - 10_000).result.allowed).toBe(false);
  });
});

describe("client key", () => {
  const key = (value: string | null, header = "CF-Connecting-IP") =>
    clientKey(new Headers(value === null ? {} : { [header]: value }), header);

  it.each([
    ["203.0.113.7", "203.0.113.7"],
    [" 203.0.113.7 ", "203.0.113.7"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["010.001.0.09", "10.1.0.9"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2::99", "2001:db8:1:2::/64"],
    ["[2001:db8::1]", "2001:db8:0:0::/64"],
    ["::ffff:198.51.100.9", "198.51.100.9"],
    ["::1", "0:0:0:0::/64"],
  ])("keys %s as %s", (value, expected) => {
    expect(key(value)).toBe(expected);
  });

  it.each([
    null,
    "",
    "__stats__",
    "unknown",
    "256.1.1.1",
    "1.2.3",
    "1.2.3.4.",
    ".1.2.3",
    "1..2.3",
    "1.2.3.4.5",
    "1.2.3.1000",
    "1.2.3.-4",
    "2001:db8::1::2",
    "1:2:3:4:5:6:7:8:9",
    "x".repeat(600),
  ])("puts %j in the shared unknown bucket", (value) => {
    expect(key(value)).toBe(UNKNOWN_CLIENT);
  });

  it("takes the last hop of a forwarded list, the one the trusted proxy appended", () => {
    expect(key("6.6.6.6, 10.0.0.1, 198.51.100.20", "X-Forwarded-For")).toBe("198.51.100.20");
  });

  it("puts every address of one /64 in one bucket and other /64s in others", () => {
    expect(normaliseAddress("2001:db8:aa:bb::1")).toBe(normaliseAddress("2001:db8:aa:bb:ffff::2"));
    expect(normaliseAddress("2001:db8:aa:bb::1")).not.toBe(normaliseAddress("2001:db8:aa:bc::1"));
  });
});
