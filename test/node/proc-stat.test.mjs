// The benchmarks' CPU reading from /proc: bench/RESULTS.md's CPU-per-request and
// CPU-per-round figures are only as true as it is.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { cpuByProcess, cpuMs, cpuSince, devServerLabel, workerdPid } from "../../bench/lib/proc-stat.mjs";

/**
 * A detached process group: one Node process that spins until it has used `spinMs` of CPU (its
 * own clock, so a busy machine only makes it take longer), then idles until killed.
 */
function spinner(spinMs) {
  const script = `const used = () => { const u = process.cpuUsage(); return u.user + u.system; };
    while (used() < ${spinMs * 1000}); console.log("done"); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", script], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const done = once(child.stdout, "data");
  return { child, done };
}

const started = [];
afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
});

describe("bench/lib/proc-stat", () => {
  it("counts a process group's CPU per label, and what it used between two readings", async () => {
    const { child, done } = spinner(400);
    started.push(child);
    const before = cpuByProcess(child.pid, () => "spinner");
    await done;
    const after = cpuByProcess(child.pid, () => "spinner");
    const used = cpuSince(before, after);
    // It used 400 ms of CPU (Node's start included); /proc counts in 10 ms ticks.
    expect(used.spinner).toBeGreaterThanOrEqual(380);
    expect(used.spinner).toBeLessThan(2000);
    expect(cpuMs(child.pid)).toBeGreaterThanOrEqual(after.spinner - 10);
    expect(Object.keys(after)).toEqual(["spinner"]);
  });

  it("sees only the group asked for, and finds no workerd where none runs", async () => {
    const { child, done } = spinner(0);
    started.push(child);
    await done;
    expect(cpuByProcess(child.pid + 1_000_000, () => "x")).toEqual({});
    expect(workerdPid(child.pid)).toBeNull();
  });

  it("names npm run dev's processes", () => {
    const workerd = "/x/node_modules/@cloudflare/workerd-linux-64/bin/workerd";
    expect(devServerLabel([workerd, "serve", "--binary", "--socket-addr=entry=127.0.0.1:0", "-"])).toBe(
      "workerd (the Worker)",
    );
    expect(devServerLabel([workerd, "serve", "--binary", "--socket-addr=entry=127.0.0.1:8787", "-"])).toBe(
      "workerd (wrangler's proxy)",
    );
    expect(devServerLabel(["node", "/x/node_modules/wrangler/wrangler-dist/cli.js", "dev"])).toBe(
      "wrangler (node)",
    );
    expect(devServerLabel(["node", "/x/scripts/dev.mjs", "--"])).toBe("dev.mjs + emulator (node)");
    expect(devServerLabel(["/usr/bin/esbuild", "--service"])).toBe("esbuild");
  });
});
