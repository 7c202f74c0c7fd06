import type { Breadcrumb, Event } from "@sentry/cloudflare";
import { loggablePath } from "./redact";

type SentryModule = typeof import("@sentry/cloudflare");
type Handler = ExportedHandler<Env>;

/** Only these request headers may leave with an event (never Authorization, Cookie, CF-Connecting-IP). */
const SAFE_HEADERS = new Set(["content-type", "content-length", "user-agent", "x-request-id", "upgrade"]);

function scrubUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${loggablePath(url.pathname)}`;
  } catch {
    return loggablePath(raw);
  }
}

/**
 * What Sentry may receive of a request: the URL without its query string (`?token=` on /ws)
 * and with secret path segments redacted (RunPod's webhook, image keys), a few harmless
 * headers, no body, no cookies. Transaction names get the same path treatment.
 */
export function scrubEvent<E extends Event>(event: E): E {
  if (event.request) {
    const { url, method, headers } = event.request;
    event.request = {
      ...(url ? { url: scrubUrl(url) } : {}),
      ...(method ? { method } : {}),
      headers: Object.fromEntries(
        Object.entries(headers ?? {}).filter(([name]) => SAFE_HEADERS.has(name.toLowerCase())),
      ),
    };
  }
  if (event.transaction) event.transaction = event.transaction.replace(/\/\S*/, (path) => loggablePath(path));
  if (event.breadcrumbs) event.breadcrumbs = event.breadcrumbs.map(scrubBreadcrumb);
  return event;
}

/** Outbound-call breadcrumbs keep their URL without query string. */
export function scrubBreadcrumb(breadcrumb: Breadcrumb): Breadcrumb {
  const url = breadcrumb.data?.url;
  return typeof url === "string"
    ? { ...breadcrumb, data: { ...breadcrumb.data, url: scrubUrl(url) } }
    : breadcrumb;
}

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
      const options = (env: Env) => ({
        dsn: sentryDsn(env),
        tracesSampleRate: 0,
        beforeSend: scrubEvent,
        beforeBreadcrumb: scrubBreadcrumb,
      });
      return sentry.withSentry(options, { ...handler } as Handler);
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
