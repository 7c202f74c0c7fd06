import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import * as Sentry from "@sentry/cloudflare";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { reportError, scrubEvent, sentryDsn, sentryLoaded, withOptionalSentry } from "../../src/ops/sentry";

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

describe("what Sentry receives", () => {
  it("an uncaught error, with the URL's query string and secret path segments gone", async () => {
    const sent: string[] = [];
    const realFetch = globalThis.fetch;
    const outbound = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("http://127.0.0.1:9/")) return realFetch(input, init);
      sent.push(
        typeof init?.body === "string" ? init.body : new TextDecoder().decode(init?.body as ArrayBuffer),
      );
      return new Response("{}", { status: 200 });
    });
    let n = 0;
    const handler: ExportedHandler<Env> = {
      async fetch() {
        n += 1;
        // Distinct messages: Sentry's Dedupe integration drops a repeat of the same error.
        throw new Error(`boom in a handler #${n}`);
      },
    };
    const wrapped = withOptionalSentry(handler);
    const testEnv = { ...env, SENTRY_DSN: "http://public@127.0.0.1:9/1" } as Env;
    const secret = "eyJhbGciOiJIUzI1NiJ9.secret-token";
    for (const path of [`/api/v1/ws?token=${secret}`, `/api/v1/webhooks/runpod/job_1/${secret}`]) {
      const ctx = createExecutionContext();
      const req = new Request(`${ORIGIN}${path}`, {
        headers: { Authorization: `Bearer ${secret}`, Cookie: `s=${secret}` },
      });
      await expect(Promise.resolve(wrapped.fetch?.(req as Req, testEnv, ctx))).rejects.toThrow(
        "boom in a handler",
      );
      await waitOnExecutionContext(ctx);
    }
    outbound.mockRestore();
    const envelopes = sent.join("\n");
    expect(envelopes).toContain("boom in a handler #1");
    expect(envelopes).toContain("boom in a handler #2");
    expect(envelopes).not.toContain(secret);
    expect(envelopes).toContain("/api/v1/webhooks/runpod/[redacted]");
  });

  it("a 5xx the app answered itself (Hono's onError) is reported too", async () => {
    const sent: string[] = [];
    const realFetch = globalThis.fetch;
    const outbound = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("http://127.0.0.1:9/")) return realFetch(input, init);
      sent.push(
        typeof init?.body === "string" ? init.body : new TextDecoder().decode(init?.body as ArrayBuffer),
      );
      return new Response("{}", { status: 200 });
    });
    const misconfigured = {
      ...env,
      SENTRY_DSN: "http://public@127.0.0.1:9/1",
      JWT_SECRET: "too short",
    } as Env;
    const ctx = createExecutionContext();
    const res = await worker.fetch(request("/api/v1/characters?token=zzz-secret"), misconfigured, ctx);
    expect(res.status).toBe(500);
    await waitOnExecutionContext(ctx);
    outbound.mockRestore();
    const envelopes = sent.join("\n");
    expect(envelopes).toContain("The service is misconfigured (JWT_SECRET)");
    expect(envelopes).toContain("request_id");
    expect(envelopes).not.toContain("zzz-secret");
  });

  it("scrubEvent keeps the path, a few headers, and nothing else of the request", () => {
    const event = scrubEvent({
      transaction: "GET /api/v1/webhooks/runpod/job_1/s3cret",
      request: {
        url: "https://art.example.com/api/v1/ws?token=abc",
        method: "GET",
        query_string: "token=abc",
        cookies: { s: "abc" },
        data: '{"password":1}',
        headers: { Authorization: "Bearer abc", "User-Agent": "test", "CF-Connecting-IP": "1.2.3.4" },
      },
      breadcrumbs: [
        { category: "fetch", data: { url: "https://api.runpod.ai/v2/x/status/y?key=abc", method: "GET" } },
      ],
    });
    expect(event.request).toEqual({
      url: "https://art.example.com/api/v1/ws",
      method: "GET",
      headers: { "User-Agent": "test" },
    });
    expect(event.transaction).toBe("GET /api/v1/webhooks/runpod/[redacted]");
    expect(event.breadcrumbs?.[0]?.data?.url).toBe("https://api.runpod.ai/v2/x/status/y");
  });
});
