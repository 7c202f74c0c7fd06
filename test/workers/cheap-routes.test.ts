import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appWith } from "./rate-limit.support";

/** A D1 binding that counts the statements prepared on it. */
function countingD1(counter: { n: number }): D1Database {
  return new Proxy(env.DB, {
    get(target, name) {
      if (name === "prepare") {
        return (query: string) => {
          counter.n += 1;
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** An R2 binding that counts `get` calls. */
function countingR2(counter: { n: number }): R2Bucket {
  return new Proxy(env.IMAGES, {
    get(target, name) {
      if (name === "get") {
        return (key: string, options?: R2GetOptions) => {
          counter.n += 1;
          return target.get(key, options);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("cheap anonymous routes", () => {
  it("answers a burst of /health calls with at most one database query", async () => {
    const queries = { n: 0 };
    const fetchApp = appWith({ DB: countingD1(queries) });
    for (let i = 0; i < 5; i++) {
      const res = await fetchApp("/api/v1/health");
      expect(res.status).toBe(200);
      expect((await res.json<{ checks: { db: string } }>()).checks.db).toBe("ok");
    }
    expect(queries.n).toBeLessThanOrEqual(1);
  });

  it("reads the store once for repeated lookups of an unknown image key, and says the 404 may be cached briefly", async () => {
    const reads = { n: 0 };
    const fetchApp = appWith({ IMAGES: countingR2(reads) });
    const token = crypto
      .getRandomValues(new Uint8Array(20))
      .reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
    const path = `/images/${token}/gen_${"0".repeat(26)}-0.png`;
    for (let i = 0; i < 4; i++) {
      const res = await fetchApp(path);
      expect(res.status).toBe(404);
      expect(res.headers.get("Cache-Control")).toMatch(/max-age=\d+/);
    }
    expect(reads.n).toBe(1);
  });
});
