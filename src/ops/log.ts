/**
 * The one structured logger: each call writes one JSON line, `{"level","msg",...fields}`,
 * which Workers Logs indexes field by field (`wrangler tail --search`, jq). Callers pass ids,
 * codes and counts, never secrets, headers or bodies; request paths go through
 * `loggablePath` (./redact.ts) first.
 *
 * Lines below the threshold cost one comparison: nothing is built. The threshold is the
 * `LOG_LEVEL` var (`debug` | `info` | `warn` | `error`, default `info`), read once per isolate
 * from `process.env` (populated from bindings under `nodejs_compat`), or set by `setLogLevel`.
 *
 * @example
 * log.info("dead-letter replayed", { job_id: id, attempts: 2 });
 * log.error("nightly task failed", { task: "backup", error: describeError(error) });
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Which console method carries each level: Workers Logs takes the line's level from it. */
const WRITE: Record<LogLevel, (line: string) => void> = {
  debug: (line) => console.debug(line),
  info: (line) => console.log(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

let threshold: number | undefined;

function configuredThreshold(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const level = env?.LOG_LEVEL?.trim().toLowerCase();
  return level && level in RANK ? RANK[level as LogLevel] : RANK.info;
}

/** Overrides `LOG_LEVEL` for this isolate (tests, a debugging session); `undefined` goes back to it. */
export function setLogLevel(level: LogLevel | undefined): void {
  threshold = level === undefined ? undefined : RANK[level];
}

/** Whether a line at `level` would be written: guard for fields that are costly to build. */
export function logEnabled(level: LogLevel): boolean {
  threshold ??= configuredThreshold();
  return RANK[level] >= threshold;
}

function write(level: LogLevel, msg: string, fields?: LogFields): void {
  if (!logEnabled(level)) return;
  let line: string;
  try {
    // One stringify of the fields, spliced after level and msg (no merged copy of the object).
    const rest = fields === undefined ? "{}" : JSON.stringify(fields);
    line = `{"level":"${level}","msg":${JSON.stringify(msg)}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}`;
  } catch (error) {
    // A field that cannot be serialised (a cycle, a BigInt) must not turn a log call into a failure.
    line = JSON.stringify({ level, msg, log_error: describeError(error) });
  }
  WRITE[level](line);
}

export const log = {
  debug: (msg: string, fields?: LogFields) => write("debug", msg, fields),
  info: (msg: string, fields?: LogFields) => write("info", msg, fields),
  warn: (msg: string, fields?: LogFields) => write("warn", msg, fields),
  error: (msg: string, fields?: LogFields) => write("error", msg, fields),
  /** At a level chosen at run time (e.g. `error` for a 5xx, `info` otherwise). */
  at: (level: LogLevel, msg: string, fields?: LogFields) => write(level, msg, fields),
};

/** An error as a short string for a log line. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
