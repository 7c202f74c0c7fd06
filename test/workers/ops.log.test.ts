import { afterEach, describe, expect, it } from "vitest";
import { describeError, log, logEnabled, setLogLevel } from "../../src/ops/log";
import { captureConsole } from "./ops.support";

afterEach(() => setLogLevel(undefined));

describe("log", () => {
  it("writes one JSON line: level, msg, then the fields", () => {
    const logs = captureConsole();
    try {
      log.warn("something odd", { job_id: "gen_1", attempts: 2, nested: { ok: true } });
      log.info("no fields");
    } finally {
      logs.restore();
    }
    expect(logs.raw).toEqual([
      '{"level":"warn","msg":"something odd","job_id":"gen_1","attempts":2,"nested":{"ok":true}}',
      '{"level":"info","msg":"no fields"}',
    ]);
  });

  it("writes each level through its console method, so Workers Logs files it under that level", () => {
    const seen: string[] = [];
    const original = { debug: console.debug, log: console.log, warn: console.warn, error: console.error };
    console.debug = () => seen.push("debug");
    console.log = () => seen.push("log");
    console.warn = () => seen.push("warn");
    console.error = () => seen.push("error");
    try {
      setLogLevel("debug");
      log.debug("d");
      log.info("i");
      log.warn("w");
      log.error("e");
      log.at("error", "e2");
    } finally {
      Object.assign(console, original);
    }
    expect(seen).toEqual(["debug", "log", "warn", "error", "error"]);
  });

  it("drops lines below the threshold without serialising their fields", () => {
    let serialised = 0;
    const costly = {
      toJSON() {
        serialised++;
        return "x";
      },
    };
    const logs = captureConsole();
    try {
      setLogLevel("warn");
      log.info("quiet", { costly });
      log.debug("quieter", { costly });
      log.error("loud", { costly });
    } finally {
      logs.restore();
    }
    expect(logs.lines().map((l) => l.msg)).toEqual(["loud"]);
    expect(serialised).toBe(1);
    expect(logEnabled("warn")).toBe(true);
    expect(logEnabled("info")).toBe(false);
  });

  it("takes its threshold from LOG_LEVEL in process.env, which the bindings populate", () => {
    // nodejs_compat fills process.env from the bindings: a secret the tests bind is there.
    expect(process.env.JWT_SECRET).toEqual(expect.any(String));
    const previous = process.env.LOG_LEVEL;
    try {
      process.env.LOG_LEVEL = "error";
      setLogLevel(undefined);
      expect(logEnabled("warn")).toBe(false);
      expect(logEnabled("error")).toBe(true);
      process.env.LOG_LEVEL = "nonsense";
      setLogLevel(undefined);
      expect(logEnabled("info")).toBe(true);
      expect(logEnabled("debug")).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = previous;
      setLogLevel(undefined);
    }
  });

  it("never throws on a field it cannot serialise", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const logs = captureConsole();
    try {
      log.error("with a cycle", { cycle, big: 1n });
    } finally {
      logs.restore();
    }
    expect(logs.lines()).toEqual([
      { level: "error", msg: "with a cycle", log_error: expect.stringContaining("TypeError") },
    ]);
  });

  it("describes errors briefly", () => {
    expect(describeError(new RangeError("too far"))).toBe("RangeError: too far");
    expect(describeError("plain")).toBe("plain");
  });
});
