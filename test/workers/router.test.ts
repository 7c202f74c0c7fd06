import { TrieRouter } from "hono/router/trie-router";
import { describe, expect, it } from "vitest";
import { MemoRouter } from "../../src/http/router";

/** The app's MemoRouter (SmartRouter inside, which takes no route after its first match), or one over a trie. */
function routers(overTrie = false) {
  const memo = overTrie ? new MemoRouter<string>(new TrieRouter()) : new MemoRouter<string>();
  const plain = new TrieRouter<string>();
  for (const r of [memo, plain]) {
    r.add("ALL", "*", "mw");
    r.add("GET", "/characters/popular", "popular");
    r.add("GET", "/characters/:id", "one");
    r.add("POST", "/characters", "create");
  }
  return { memo, plain };
}

describe("MemoRouter", () => {
  it("answers as the router it wraps, per method and path, asked once or again", () => {
    const { memo, plain } = routers();
    for (let round = 0; round < 2; round++) {
      for (const [method, path] of [
        ["GET", "/characters/popular"],
        ["POST", "/characters/popular"],
        ["GET", "/characters/abc"],
        ["POST", "/characters"],
        ["GET", "/characters"],
        ["DELETE", "/characters/abc"],
      ] as const) {
        expect(memo.match(method, path), `${method} ${path}`).toEqual(plain.match(method, path));
      }
    }
  });

  it("stays right past its bound, and forgets its answers when a route is added", () => {
    const { memo, plain } = routers(true);
    for (let i = 0; i < 1_300; i++) {
      const path = `/characters/c${i}`;
      expect(memo.match(i % 2 ? "GET" : "PATCH", path)).toEqual(plain.match(i % 2 ? "GET" : "PATCH", path));
    }
    expect(memo.match("GET", "/late")[0]).toHaveLength(1); // only "*"
    memo.add("GET", "/late", "late");
    expect(memo.match("GET", "/late")[0].map(([handler]) => handler)).toEqual(["mw", "late"]);
  });
});
