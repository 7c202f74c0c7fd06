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
  private readonly memo = new Map<string, Result<T>>();
  private readonly inner: Router<T>;

  constructor(inner: Router<T> = new SmartRouter({ routers: [new RegExpRouter(), new TrieRouter()] })) {
    this.inner = inner;
    this.name = `MemoRouter(${inner.name})`;
  }

  add(method: string, path: string, handler: T): void {
    this.memo.clear();
    this.inner.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    const key = `${method} ${path}`;
    const known = this.memo.get(key);
    if (known) return known;
    const result = this.inner.match(method, path);
    if (this.memo.size >= MAX_MEMOISED) this.memo.clear();
    this.memo.set(key, result);
    return result;
  }
}
