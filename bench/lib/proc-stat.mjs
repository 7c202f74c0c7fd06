// CPU time of the benchmarks' server processes, read from Linux's /proc (utime + stime), so a
// figure is CPU used, not wall time, and holds up on a busy machine better than throughput.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** CLK_TCK on Linux: /proc's times are in ticks of 10 ms. */
const TICKS_PER_S = 100;

/** One process's fields from /proc/PID/stat (the name may hold spaces and parentheses). */
function statOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
    pgid: Number(fields[2]),
    cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S,
  };
}

/** Every process of a process group (a detached child's pid is its group's id), with its command line. */
function groupMembers(pgid) {
  const members = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = statOf(entry);
      if (stat.pgid !== pgid) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      members.push({ pid: Number(entry), ...stat, cmd });
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return members;
}

/** CPU ms a process has used so far. */
export const cpuMs = (pid) => statOf(pid).cpuMs;

/** The pid of the workerd process in a process group, or null. */
export function workerdPid(pgid) {
  return groupMembers(pgid).find((p) => p.comm.startsWith("workerd"))?.pid ?? null;
}

/** CPU ms used so far by each process of a process group, summed per `labelOf(cmdline argv)`. */
export function cpuByProcess(pgid, labelOf) {
  const out = {};
  for (const p of groupMembers(pgid)) {
    const label = labelOf(p.cmd);
    out[label] = (out[label] ?? 0) + p.cpuMs;
  }
  return out;
}

/** What each label used between two `cpuByProcess` readings. */
export const cpuSince = (before, after) =>
  Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));

/**
 * Names the processes `npm run dev` (scripts/dev.mjs) runs, for `cpuByProcess`. wrangler dev
 * runs two workerd processes: its proxy, listening on the port clients use, and the runtime
 * of the Worker (with its Durable Objects, queue consumer and Miniflare's D1, R2 and Queues
 * simulators), listening on a port of its own (`entry=127.0.0.1:0`). Each runs its
 * JavaScript on one thread (beside one V8 platform thread), so one of them at ~1 core is
 * that process saturated, however many cores the machine has.
 */
export function devServerLabel(cmd) {
  const joined = cmd.join(" ");
  if (/workerd/.test(cmd[0] ?? "")) {
    if (/--socket-addr=entry=[^ ]*:0(?: |$)/.test(joined)) return "workerd (the Worker)";
    return "workerd (wrangler's proxy)";
  }
  if (joined.includes("wrangler-dist") || joined.includes("wrangler-dev.mjs")) return "wrangler (node)";
  if (joined.includes("wrangler.js")) return "wrangler launcher";
  if (joined.includes("dev.mjs")) return "dev.mjs + emulator (node)";
  return path.basename(cmd[0] ?? "?");
}
