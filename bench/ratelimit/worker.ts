import { DurableObject } from "cloudflare:workers";
import { type Context, Hono } from "hono";
import { clientKey } from "../../src/rate-limit/client-ip";
import { rateLimit } from "../../src/rate-limit/middleware";
import type { AppEnv } from "../../src/types";

export { RateLimiter } from "../../durable-objects/rate-limiter";

/** Variant (b)'s stand-in for the limiter: a Durable Object method that does nothing. */
export class NoopObject extends DurableObject {
  ping(): { ok: true } {
    return { ok: true };
  }
}

interface BenchBindings {
  NOOP: DurableObjectNamespace<NoopObject>;
}

const hello = (c: Context<AppEnv>) => c.json({ ok: true });

/**
 * One endpoint served three ways by the same Worker, so only the limiting step differs:
 * (a) `/plain/hello` nothing; (b) `/noop/hello` one RPC to a per-IP no-op object, keyed
 * like the limiter; (c) `/api/v1/hello` the real `rateLimit` middleware and `RateLimiter`.
 */
const app = new Hono<AppEnv>()
  .get("/plain/hello", hello)
  .get(
    "/noop/hello",
    async (c, next) => {
      const { NOOP } = c.env as unknown as BenchBindings;
      await NOOP.get(NOOP.idFromName(clientKey(c.req.raw.headers, "CF-Connecting-IP"))).ping();
      await next();
    },
    hello,
  )
  .use("/api/*", rateLimit)
  .get("/api/v1/hello", hello);

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
