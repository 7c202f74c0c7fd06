import type { Result, Router } from "hono/router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";

/** Distinct method + path pairs remembered; past this the memo starts over (ids make paths unbounded). */
const MAX_MEMOISED = 512;

/**
 * Hono's default router (SmartRouter: RegExpRouter, else TrieRouter) with the answer per
 * method and path remembered.
 *
 * Why: RegExpRouter refuses this app's routes, so SmartRouter falls back to TrieRouter,
 * whose `search` walks the trie per request (12.5 % of a cached read's isolate time in
 * bench/api/CPU.md). RegExpRouter (hono 4.13) rejects any param segment next to a static
 * sibling (`/characters/popular` and `/characters/import` beside `/characters/:id`,
 * `/chats/import` beside `/chats/:id`): one regular expression can report only one of two
 * routes that both match `/characters/popular`, and Hono needs both. Those paths are public
 * (API.md), so the app keeps them; LinearRouter and PatternRouter measured slower than the
 * trie on these ~260 entries (5-150 µs against 2-7 µs per match). A match is a pure function
 * of method and path once the routes are added, and Hono treats the result as read-only
 * (RegExpRouter itself returns shared arrays), so the hot paths (popular, the list, /me) are
 * answered from a Map.
 *
 * @example
 * new OpenAPIHono<AppEnv>({ router: new MemoRouter() })
 */
export class MemoRouter<T> implements Router<T> {
  readonly name: string;
  /** Method -> path -> match: no `method + path` key string built per request. */
  private readonly memo = new Map<string, Map<string, Result<T>>>();
  private memoised = 0;
  private readonly inner: Router<T>;

  constructor(inner: Router<T> = new SmartRouter({ routers: [new RegExpRouter(), new TrieRouter()] })) {
    this.inner = inner;
    this.name = `MemoRouter(${inner.name})`;
  }

  add(method: string, path: string, handler: T): void {
    this.forget();
    this.inner.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    let byPath = this.memo.get(method);
    const known = byPath?.get(path);
    if (known) return known;
    const result = this.inner.match(method, path);
    if (this.memoised >= MAX_MEMOISED) {
      this.forget();
      byPath = undefined;
    }
    if (!byPath) {
      byPath = new Map();
      this.memo.set(method, byPath);
    }
    byPath.set(path, result);
    this.memoised += 1;
    return result;
  }

  private forget(): void {
    this.memo.clear();
    this.memoised = 0;
  }
}
