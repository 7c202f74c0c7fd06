/** One JSON line per event, as Workers Logs indexes them. Callers pass ids and codes, never secrets or bodies. */
export function log(
  level: "info" | "warn" | "error",
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  console[level](JSON.stringify({ level, msg, ...fields }));
}

/** An error as a short string for a log line. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
