import { vi } from "vitest";

export const ADMIN_TOKEN = "test-admin-token";

/** Everything written to the console while it runs: raw text and the JSON lines among it. */
export function captureConsole() {
  const raw: string[] = [];
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      raw.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    }),
  );
  return {
    raw,
    /** Parsed JSON lines, optionally only those with `msg`. */
    lines<T = Record<string, unknown>>(msg?: string): T[] {
      const parsed: Record<string, unknown>[] = [];
      for (const text of raw) {
        try {
          const value = JSON.parse(text);
          if (value && typeof value === "object") parsed.push(value);
        } catch {
          // not a JSON line
        }
      }
      return (msg === undefined ? parsed : parsed.filter((l) => l.msg === msg)) as T[];
    },
    restore() {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** A stand-in `METRICS` dataset that keeps every data point. */
export class RecordingDataset {
  points: AnalyticsEngineDataPoint[] = [];
  writeDataPoint(point?: AnalyticsEngineDataPoint): void {
    if (point) this.points.push(point);
  }
  of(event: string): AnalyticsEngineDataPoint[] {
    return this.points.filter((p) => p.blobs?.[0] === event);
  }
}

export function adminHeaders(
  token = ADMIN_TOKEN,
  headers: Record<string, string> = {},
): Record<string, string> {
  return { Authorization: `Bearer ${token}`, ...headers };
}
