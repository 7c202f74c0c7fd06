import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import * as Sentry from "@sentry/cloudflare";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { reportError, sentryDsn, sentryLoaded, withOptionalSentry } from "../../src/ops/sentry";

const ORIGIN = "http://127.0.0.1:8787";
type Req = Parameters<NonNullable<ExportedHandler<Env>["fetch"]>>[0];

function request(path: string): Req {
  return new Request(`${ORIGIN}${path}`) as Req;
}

describe("Sentry without SENTRY_DSN", () => {
  it("is never imported nor initialised, and the handlers are called directly", async () => {
    const load = vi.fn(() => import("@sentry/cloudflare"));
    const fetch = vi.fn(async (_request: Req, _env: Env, _ctx: ExecutionContext) => new Response("plain"));
    const scheduled = vi.fn(
      async (_controller: ScheduledController, _env: Env, _ctx: ExecutionContext) => {},
    );
    const wrapped = withOptionalSentry({ fetch, scheduled } satisfies ExportedHandler<Env>, load);
    const ctx = createExecutionContext();
    for (const dsn of [undefined, "", "   "]) {
      const testEnv = { ...env, SENTRY_DSN: dsn } as Env;
      const res = await wrapped.fetch?.(request("/x"), testEnv, ctx);
      expect(await res?.text()).toBe("plain");
    }
    await wrapped.scheduled?.({ cron: "* * * * *", scheduledTime: 0, noRetry() {} }, env, ctx);
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(scheduled).toHaveBeenCalledTimes(1);
    expect(load).not.toHaveBeenCalled();
    expect(Sentry.isInitialized()).toBe(false);
    expect(Sentry.getClient()).toBeUndefined();
  });

  it("the deployed Worker serves requests, and errors, without loading the SDK or calling out", async () => {
    const outbound = vi.spyOn(globalThis, "fetch");
    const ctx = createExecutionContext();
    const res = await worker.fetch(request("/api/v1/health"), env, ctx);
    expect(res.status).toBe(200);
    const broken = await worker.fetch(
      request("/api/v1/characters"),
      { ...env, JWT_SECRET: "short" } as Env,
      ctx,
    );
    expect(broken.status).toBe(500);
    await waitOnExecutionContext(ctx);
    reportError(new Error("nothing to report to"));
    expect(sentryDsn(env)).toBeUndefined();
    expect(sentryLoaded()).toBe(false);
    expect(Sentry.isInitialized()).toBe(false);
    expect(outbound).not.toHaveBeenCalled();
    outbound.mockRestore();
  });
});

describe("Sentry with SENTRY_DSN", () => {
  it("loads the SDK once and runs each handler inside an initialised client", async () => {
    const load = vi.fn(() => import("@sentry/cloudflare"));
    const seen: Array<string | undefined> = [];
    const handler: ExportedHandler<Env> = {
      async fetch() {
        seen.push(Sentry.getClient()?.getOptions().dsn);
        return new Response("instrumented");
      },
    };
    const wrapped = withOptionalSentry(handler, load);
    // A DSN whose host refuses connections: nothing is sent unless an error is captured.
    const testEnv = { ...env, SENTRY_DSN: "http://public@127.0.0.1:9/1" } as Env;
    for (let i = 0; i < 2; i++) {
      const ctx = createExecutionContext();
      const res = await wrapped.fetch?.(request("/y"), testEnv, ctx);
      expect(await res?.text()).toBe("instrumented");
      await waitOnExecutionContext(ctx);
    }
    expect(load).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(["http://public@127.0.0.1:9/1", "http://public@127.0.0.1:9/1"]);
    expect(sentryLoaded()).toBe(true);
  });
});
