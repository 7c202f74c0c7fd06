type SentryModule = typeof import("@sentry/cloudflare");
type Handler = ExportedHandler<Env>;

/** Set once the SDK has been loaded for a DSN; until then `reportError` does nothing. */
let loaded: SentryModule | undefined;

/** `SENTRY_DSN` when set to something non-blank (read straight from the binding: cheap, and never throws). */
export function sentryDsn(env: unknown): string | undefined {
  const dsn = (env as { SENTRY_DSN?: unknown } | undefined)?.SENTRY_DSN;
  return typeof dsn === "string" && dsn.trim() !== "" ? dsn.trim() : undefined;
}

/**
 * Error tracking with `@sentry/cloudflare`, only when `SENTRY_DSN` is set. Without it every
 * call goes straight to `handler`: the SDK is never imported (a dynamic import the bundler
 * keeps lazy), never initialised, and makes no network call. With it, the first call loads
 * the SDK and every call runs through `Sentry.withSentry` (errors thrown by the fetch, queue
 * and scheduled handlers; 5xx answers via `reportError`). Traces stay off: Workers Logs and
 * Analytics Engine cover latency.
 *
 * @example
 * export default withOptionalSentry({ fetch: app.fetch, queue, scheduled } satisfies ExportedHandler<Env>);
 */
export function withOptionalSentry<H extends Handler>(
  handler: H,
  load: () => Promise<SentryModule> = () => import("@sentry/cloudflare"),
): H {
  let instrumented: Promise<Handler> | undefined;
  const sentryHandler = (): Promise<Handler> => {
    instrumented ??= load().then((sentry) => {
      loaded = sentry;
      return sentry.withSentry((env: Env) => ({ dsn: sentryDsn(env), tracesSampleRate: 0 }), {
        ...handler,
      } as Handler);
    });
    return instrumented;
  };

  const wrapped: Handler = {};
  if (handler.fetch) {
    const plain = handler.fetch.bind(handler);
    wrapped.fetch = (request, env, ctx) =>
      sentryDsn(env)
        ? sentryHandler().then((h) => (h.fetch as NonNullable<Handler["fetch"]>)(request, env, ctx))
        : plain(request, env, ctx);
  }
  if (handler.queue) {
    const plain = handler.queue.bind(handler);
    wrapped.queue = (batch, env, ctx) =>
      sentryDsn(env)
        ? sentryHandler().then((h) => (h.queue as NonNullable<Handler["queue"]>)(batch, env, ctx))
        : plain(batch, env, ctx);
  }
  if (handler.scheduled) {
    const plain = handler.scheduled.bind(handler);
    wrapped.scheduled = (controller, env, ctx) =>
      sentryDsn(env)
        ? sentryHandler().then((h) =>
            (h.scheduled as NonNullable<Handler["scheduled"]>)(controller, env, ctx),
          )
        : plain(controller, env, ctx);
  }
  return wrapped as H;
}

/**
 * Reports an error the app answered itself (Hono's `onError` keeps it from reaching
 * `withSentry`). A no-op unless the SDK was loaded for a DSN.
 */
export function reportError(error: unknown, context: Record<string, unknown> = {}): void {
  loaded?.captureException(error, { extra: context });
}

/** Whether the SDK has been loaded in this isolate (tests: it must not be without a DSN). */
export function sentryLoaded(): boolean {
  return loaded !== undefined;
}
