import {
  createExecutionContext,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import type { RateLimiter } from "../../durable-objects/rate-limiter";
import { createApp } from "../../src/app";
import type { Config } from "../../src/config";
import { type ClientLimiter, limiterFor } from "../../src/rate-limit/binding";
import { clientKey } from "../../src/rate-limit/client-ip";

export const ORIGIN = "http://127.0.0.1:8787";

let sequence = 0;
const fileOctet = 1 + Math.floor(Math.random() * 250);

/** A client address no other test uses, so no two tests share a bucket. */
export function uniqueIp(): string {
  sequence += 1;
  return `10.${fileOctet}.${Math.floor(sequence / 250)}.${1 + (sequence % 250)}`;
}

/** The limiter the app uses for `ip` at location `colo` (requests built in a test carry no `cf`: none). */
export function limiterOf(ip: string, colo?: string): ClientLimiter {
  return limiterFor(env, clientKey(new Headers({ "CF-Connecting-IP": ip }), "CF-Connecting-IP"), colo);
}

let coloSequence = 0;
/** A location no other test uses: its shards are fresh objects, whatever the clock or bound a test sets in them. */
export function uniqueColo(): string {
  coloSequence += 1;
  return `T${fileOctet}X${coloSequence}`.slice(0, 8);
}

/** A clock the test moves by hand; installed in a limiter instance with `useClock`. */
export class ManualClock {
  constructor(public nowMs = 1_700_000_000_000) {}
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

/** Installs `clock` in the limiter's shard (every client of that shard); `flushReports` puts the wall clock back. */
export async function useClock(limiter: ClientLimiter, clock: ManualClock): Promise<void> {
  await runInDurableObject(limiter.shard, (instance: RateLimiter) => {
    instance.clock = () => clock.nowMs;
  });
}

/**
 * Runs the pending report alarm of each limiter's shard (alarms outlive a test otherwise) and
 * gives the shard back its wall clock: shards are shared by many clients, and by later tests.
 */
export async function flushReports(...limiters: ClientLimiter[]): Promise<void> {
  for (const { shard } of limiters) {
    await runDurableObjectAlarm(shard);
    await runInDurableObject(shard, (instance: RateLimiter) => {
      instance.clock = () => Date.now();
    });
  }
}

/** A `fetch` into a fresh app whose env is the test env with `overrides` (rates, failure mode, bindings). */
export function appWith(overrides: Partial<Record<keyof Env | keyof Config, unknown>>) {
  const app = createApp();
  const appEnv = { ...env, ...overrides } as Env;
  /** `ip` is the client address (`CF-Connecting-IP`), `colo` the location (`request.cf.colo`). */
  return async (path: string, init: RequestInit & { ip?: string; colo?: string } = {}): Promise<Response> => {
    const { ip, colo, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (ip) headers.set("CF-Connecting-IP", ip);
    const request = new Request(`${ORIGIN}${path}`, { ...rest, headers, ...(colo ? { cf: { colo } } : {}) });
    const ctx = createExecutionContext();
    const res = await app.fetch(request, appEnv, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
}

/** How many responses had each status, e.g. `{ 200: 40, 429: 60 }`. */
export function statusCounts(responses: Response[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const res of responses) counts[res.status] = (counts[res.status] ?? 0) + 1;
  return counts;
}

export function rateLimitHeaders(res: Response) {
  return {
    limit: res.headers.get("RateLimit-Limit"),
    remaining: res.headers.get("RateLimit-Remaining"),
    reset: res.headers.get("RateLimit-Reset"),
    retryAfter: res.headers.get("Retry-After"),
  };
}
