import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";

/**
 * The TCP socket postgres.js talks through (its `socket` option), on `cloudflare:sockets`.
 *
 * Why not postgres.js's own Workers polyfill: when a connection is ended, the polyfill's
 * read loop sees the socket close *after* postgres.js has removed its listeners, and emits
 * an `error` nobody listens to, which throws out of the loop as an unhandled rejection. So
 * clients could never be ended, and a client that is never ended keeps its connection until
 * the runtime reclaims the invocation's sockets. A Worker request does that when it ends, but
 * a Durable Object keeps its I/O for as long as it lives: every chat turn of a `UserSession`
 * left one PostgreSQL connection behind (found by `bench/ws --db postgres`: the 101st turn hit
 * `max_connections`). Here a socket that is closing or closed swallows late errors, so
 * `end()` is safe and connections are returned when a unit of work finishes.
 *
 * TLS is not negotiated here: the connection string is Hyperdrive's, and Hyperdrive secures
 * the hop to the database itself.
 */
export class PgSocket extends EventEmitter {
  /** postgres.js reads this: `open` until the socket is closed. */
  readyState: "open" | "closed" = "open";
  private closing = false;
  private readonly raw: Socket;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(raw: Socket) {
    super();
    this.raw = raw;
    this.writer = this.raw.writable.getWriter();
    // A refused connection is an error postgres.js must hear (it rejects the waiting query).
    this.raw.opened.catch((error: unknown) => this.fail(error));
    void this.pump(this.raw.readable.getReader());
    this.raw.closed.then(
      () => this.finish(),
      (error: unknown) => this.fail(error),
    );
  }

  write(data: Uint8Array, done?: () => void): boolean {
    this.writer.write(data).then(
      () => done?.(),
      (error: unknown) => this.fail(error),
    );
    return true;
  }

  end(data?: Uint8Array): void {
    const close = () => {
      this.closing = true;
      this.raw.close().catch(() => {});
    };
    if (data) this.write(data, close);
    else close();
  }

  destroy(): void {
    this.end();
  }

  // Flow control for COPY streams, which this service does not use.
  pause(): void {}
  resume(): void {}

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.emit("data", Buffer.from(value));
      }
      this.finish();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    // An error while closing (or after) is the close itself, not news to anyone.
    if (!this.closing && this.readyState !== "closed" && this.listenerCount("error") > 0) {
      this.emit("error", error);
    }
    this.finish();
  }

  private finish(): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.emit("close");
  }
}

/**
 * postgres.js's `socket` option on Workers, or nothing elsewhere: the same client also runs
 * in Node (`npm run db:restore`), where postgres.js's own Node sockets are right and
 * `cloudflare:sockets` does not exist.
 */
export function workersSocketOption(): {
  socket?: (options: { host: string[]; port: number[] }) => Promise<PgSocket>;
} {
  const runtime = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent;
  if (runtime !== "Cloudflare-Workers") return {};
  return {
    socket: async ({ host, port }) => {
      const { connect } = await import("cloudflare:sockets");
      return new PgSocket(connect({ hostname: host[0] ?? "localhost", port: port[0] ?? 5432 }));
    },
  };
}
