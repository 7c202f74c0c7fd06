/**
 * Where a chat turn's time goes, for benchmarks only (`TURN_TIMING=1` in the environment;
 * `bench/ws/run.mjs` sets it and summarises the lines). One log line per turn: `at`, the epoch
 * ms the frame reached the session, the turn's facts (woken, context source, chat id) and
 * milliseconds from `at` to each phase, on the session's own clock (which in workerd advances
 * at I/O, so each mark is when that I/O completed). `bench/ws/trace.mjs` lines `at` up with
 * the client's and the model emulator's clocks.
 */
export class TurnTiming {
  private readonly start = Date.now();
  private readonly marks: Record<string, number> = {};
  private readonly facts: Record<string, string | boolean> = {};

  /** The first time `phase` is reached (later calls keep the first). */
  mark(phase: string): void {
    this.marks[phase] ??= Date.now() - this.start;
  }

  /** Something about the turn the phases depend on (e.g. where its context came from). */
  note(name: string, value: string | boolean): void {
    this.facts[name] = value;
  }

  flush(): void {
    console.log(
      JSON.stringify({ level: "info", msg: "turn timing", at: this.start, ...this.facts, ...this.marks }),
    );
  }
}

/** A timer when the environment asks for one, else undefined (no cost on the turn). */
export function turnTiming(env: unknown): TurnTiming | undefined {
  return (env as { TURN_TIMING?: string }).TURN_TIMING === "1" ? new TurnTiming() : undefined;
}
