import {
  createExecutionContext,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import type { RateLimiter } from "../../durable-objects/rate-limiter";
import { createApp } from "../../src/app";
import { limiterFor } from "../../src/rate-limit/binding";
import { clientKey } from "../../src/rate-limit/client-ip";

export const ORIGIN = "http://127.0.0.1:8787";

let sequence = 0;
const fileOctet = 1 + Math.floor(Math.random() * 250);

/** A client address no other test uses, so no two tests share a bucket. */
export function uniqueIp(): string {
  sequence += 1;
  return `10.${fileOctet}.${Math.floor(sequence / 250)}.${1 + (sequence % 250)}`;
}

/** The limiter instance the app uses for `ip`. */
export function limiterOf(ip: string): DurableObjectStub<RateLimiter> {
  return limiterFor(env, clientKey(new Headers({ "CF-Connecting-IP": ip }), "CF-Connecting-IP"));
}

/** A clock the test moves by hand; installed in a limiter instance with `useClock`. */
export class ManualClock {
  constructor(public nowMs = 1_700_000_000_000) {}
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export async function useClock(stub: DurableObjectStub<RateLimiter>, clock: ManualClock): Promise<void> {
  await runInDurableObject(stub, (instance: RateLimiter) => {
    instance.clock = () => clock.nowMs;
  });
}

/** Runs the pending report alarm of each stub (alarms outlive a test otherwise). */
export async function flushReports(...stubs: DurableObjectStub<RateLimiter>[]): Promise<void> {
  for (const stub of stubs) await runDurableObjectAlarm(stub);
}

/** A `fetch` into a fresh app whose env is the test env with `overrides` (rates, failure mode, bindings). */
export function appWith(
  overrides: Partial<Record<keyof Env | "CLIENT_IP_HEADER" | "RATE_LIMIT_FAILURE_MODE", unknown>>,
) {
  const app = createApp();
  const appEnv = { ...env, ...overrides } as Env;
  return async (path: string, init: RequestInit & { ip?: string } = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (init.ip) headers.set("CF-Connecting-IP", init.ip);
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`${ORIGIN}${path}`, { ...init, headers }), appEnv, ctx);
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
