import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  cronsOf,
  emulatorVars,
  nextCronTime,
  parseDevArgs,
  startWorkerInput,
  upstreamsToEmulate,
  wranglerEnv,
} from "../../scripts/lib/dev-env.mjs";

const root = path.resolve(import.meta.dirname, "../..");

describe("npm run dev: .dev.vars against the emulator", () => {
  const emulate = (argv, devVars) => upstreamsToEmulate(parseDevArgs(argv), devVars);

  it("emulates both upstreams when .dev.vars sets neither (the shipped example)", () => {
    const example = readFileSync(path.join(root, ".dev.vars.example"), "utf8");
    expect(emulate([], example)).toEqual(["RUNPOD_API_BASE", "LLM_BASE_URL"]);
  });

  it("lets a value in .dev.vars win: only the upstream it leaves unset is emulated", () => {
    expect(emulate([], "LLM_BASE_URL=http://127.0.0.1:8000/v1\n")).toEqual(["RUNPOD_API_BASE"]);
    expect(emulate([], 'RUNPOD_API_BASE="https://api.runpod.ai/v2"\n')).toEqual(["LLM_BASE_URL"]);
  });

  it("starts no emulator when .dev.vars sets both", () => {
    const both = "RUNPOD_API_BASE=https://api.runpod.ai/v2\n# a comment\nLLM_BASE_URL=http://gpu:8000/v1\n";
    expect(emulate([], both)).toEqual([]);
  });

  it("ignores a commented-out value", () => {
    expect(emulate([], "# LLM_BASE_URL=http://gpu:8000/v1\n")).toEqual(["RUNPOD_API_BASE", "LLM_BASE_URL"]);
  });

  it("counts a --var passed through to wrangler like a .dev.vars value", () => {
    expect(emulate(["--", "--var", "RUNPOD_API_BASE:https://api.runpod.ai/v2"], "")).toEqual([
      "LLM_BASE_URL",
    ]);
  });

  it("starts no emulator with --no-emulator", () => {
    expect(emulate(["--no-emulator"], "")).toEqual([]);
    expect(emulate(["--postgres", "--no-emulator"], "LLM_BASE_URL=x\n")).toEqual([]);
  });

  it("reads its own flags only before `--`", () => {
    expect(parseDevArgs(["--postgres", "--", "--no-emulator", "--inspect"])).toEqual({
      usePostgres: true,
      useEmulator: true,
      inspect: false,
      observe: false,
      passThrough: ["--no-emulator", "--inspect"],
    });
    expect(parseDevArgs(["--inspect"]).inspect).toBe(true);
    expect(parseDevArgs(["--observe"]).observe).toBe(true);
  });

  it("runs wrangler with its local trace collector off unless --observe or the caller's env says so", () => {
    const env = { PATH: "/bin", PORT: "9000" };
    expect(wranglerEnv(env, parseDevArgs([]))).toEqual({ ...env, X_LOCAL_OBSERVABILITY: "false" });
    expect(wranglerEnv(env, parseDevArgs(["--observe"])).X_LOCAL_OBSERVABILITY).toBe("true");
    expect(
      wranglerEnv({ ...env, X_LOCAL_OBSERVABILITY: "true" }, parseDevArgs([])).X_LOCAL_OBSERVABILITY,
    ).toBe("true");
    expect(env).toEqual({ PATH: "/bin", PORT: "9000" }); // the caller's env is not changed
  });

  it("points each emulated upstream at its path on the emulator", () => {
    expect(emulatorVars(["RUNPOD_API_BASE", "LLM_BASE_URL"], "http://127.0.0.1:8788")).toEqual([
      "--var",
      "RUNPOD_API_BASE:http://127.0.0.1:8788/v2",
      "--var",
      "LLM_BASE_URL:http://127.0.0.1:8788/openai/v1",
    ]);
  });
});

describe("npm run dev: cron schedule", () => {
  const at = (iso) => new Date(iso);

  it("reads the crons of wrangler.toml's top-level [triggers]", () => {
    const toml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
    expect(cronsOf(toml)).toEqual(["0 3 * * *", "* * * * *"]);
    expect(cronsOf('name = "x"\n')).toEqual([]);
  });

  it("fires every minute on the next whole minute", () => {
    expect(nextCronTime("* * * * *", at("2026-12-02T03:41:27.500Z"))).toEqual(at("2026-12-02T03:42:00Z"));
    expect(nextCronTime("* * * * *", at("2026-12-02T03:42:00Z"))).toEqual(at("2026-12-02T03:43:00Z"));
  });

  it("fires a daily cron today when its time is still ahead, else tomorrow (UTC)", () => {
    expect(nextCronTime("0 3 * * *", at("2026-12-02T02:59:59Z"))).toEqual(at("2026-12-02T03:00:00Z"));
    expect(nextCronTime("0 3 * * *", at("2026-12-02T03:00:00Z"))).toEqual(at("2026-12-03T03:00:00Z"));
    expect(nextCronTime("0 3 * * *", at("2026-12-31T23:30:00Z"))).toEqual(at("2027-01-01T03:00:00Z"));
  });

  it("understands steps, ranges, lists and days of the week", () => {
    expect(nextCronTime("*/15 * * * *", at("2026-12-02T03:41:00Z"))).toEqual(at("2026-12-02T03:45:00Z"));
    expect(nextCronTime("0 9-17/4 * * *", at("2026-12-02T13:00:00Z"))).toEqual(at("2026-12-02T17:00:00Z"));
    expect(nextCronTime("30 0 1,15 * *", at("2026-12-02T00:00:00Z"))).toEqual(at("2026-12-15T00:30:00Z"));
    // 2026-12-02 is a Wednesday; 7 means Sunday, like 0.
    expect(nextCronTime("0 0 * * 7", at("2026-12-02T00:00:00Z"))).toEqual(at("2026-12-06T00:00:00Z"));
  });

  it("rejects what it can't schedule instead of never firing", () => {
    expect(() => nextCronTime("0 3 * *", new Date())).toThrow(/five fields/);
    expect(() => nextCronTime("61 * * * *", new Date())).toThrow(/unsupported/);
    expect(() => nextCronTime("0 0 30 2 *", new Date())).toThrow(/never fires/);
  });
});

describe("npm run dev: wrangler dev without its inspector", () => {
  const at = { ip: "127.0.0.1", port: "8787", root: "/repo" };

  it("turns wrangler's flags into startWorker input with the inspector off", () => {
    const { input, unsupported } = startWorkerInput(at, [
      "--var",
      "LLM_BASE_URL:http://127.0.0.1:8788/openai/v1",
      "--var=PUBLIC_BASE_URL:http://127.0.0.1:9000",
      "--persist-to",
      "state",
      "--log-level",
      "warn",
    ]);
    expect(unsupported).toBeUndefined();
    expect(input).toEqual({
      config: "/repo/wrangler.toml",
      bindings: {
        LLM_BASE_URL: { type: "plain_text", value: "http://127.0.0.1:8788/openai/v1" },
        PUBLIC_BASE_URL: { type: "plain_text", value: "http://127.0.0.1:9000" },
      },
      dev: {
        server: { hostname: "127.0.0.1", port: 8787 },
        inspector: false,
        persist: "/repo/state",
        logLevel: "warn",
      },
    });
  });

  it("lets a later --port or --config win over the defaults", () => {
    const { input } = startWorkerInput(at, ["--port", "9001", "-c", "other.toml"]);
    expect(input.dev.server.port).toBe(9001);
    expect(input.config).toBe("/repo/other.toml");
  });

  it("names the flags it cannot translate, so the wrangler CLI runs instead", () => {
    expect(startWorkerInput(at, ["--var", "A:1", "--remote", "--env", "staging"])).toEqual({
      unsupported: ["--remote", "--env", "staging"],
    });
  });
});
