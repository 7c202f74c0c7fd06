// The lease's own CPU cost and saving, isolated: the same service bundle served twice by
// Miniflare/workerd directly, once with RATE_API_LEASE=8 (as shipped) and once with 0 (every
// request asks its shard), measured alternately so that drift of the machine hits both alike.
// workerd CPU (utime + stime from /proc) per request, limiter calls per request from the log.
//   node bench/api/lease-ab.mjs [--requests 6000] [--rounds 3] [--route /api/v1/characters/popular]
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { freePort } from "../../scripts/lib/postgres.mjs";
import { root, startProcess } from "../lib/harness.mjs";
import { cpuMs, workerdPid } from "../lib/proc-stat.mjs";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "6000" },
    rounds: { type: "string", default: "3" },
    route: { type: "string", default: "/api/v1/characters/popular" },
  },
});
const SPREADS = [4096, 100];
const procs = [];

async function start(label, lease) {
  const proc = startProcess(
    [
      path.join(root, "bench/ws/miniflare-server.mjs"),
      "--port",
      String(await freePort()),
      "--persist",
      path.join(os.tmpdir(), `bench-lease-ab-${process.pid}-${label}`),
      // Every request logged: the limiter calls are counted from the request log.
      ...["RATE_API_PER_S=20", "RATE_API_BURST=40", `RATE_API_LEASE=${lease}`, "LOG_SAMPLE_RATE=1"].flatMap(
        (v) => ["--var", v],
      ),
    ],
    { cwd: root },
  );
  procs.push(proc);
  while (!/READY (\S+)/.test(proc.output())) {
    if (proc.child.exitCode !== null) throw new Error(proc.output().slice(-2000));
    await new Promise((r) => setTimeout(r, 250));
  }
  const pid = workerdPid(proc.child.pid);
  if (!pid) throw new Error(`${label}: no workerd process in group ${proc.child.pid}`);
  return { label, proc, url: /READY (\S+)/.exec(proc.output())[1], pid };
}

const count = (t, re) => t.proc.output().match(re)?.length ?? 0;

function drive(url, amount, addresses) {
  return autocannon({
    url,
    connections: 10,
    amount,
    requests: [
      {
        setupRequest: (req) => {
          const i = Math.floor(Math.random() * addresses);
          return {
            ...req,
            headers: {
              ...req.headers,
              "cf-connecting-ip": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
            },
          };
        },
      },
    ],
  });
}

async function measure(t, addresses) {
  const url = `${t.url}${args.route}`;
  const limited0 = count(t, /"rate_limit":\{/g);
  const leased0 = count(t, /"by":"lease"/g);
  const cpu0 = cpuMs(t.pid);
  const r = await drive(url, Number(args.requests), addresses);
  const cpu = cpuMs(t.pid) - cpu0;
  await new Promise((res) => setTimeout(res, 300));
  const limited = count(t, /"rate_limit":\{/g) - limited0;
  const leased = count(t, /"by":"lease"/g) - leased0;
  return {
    ms: cpu / r.requests.total,
    calls: (limited - leased) / r.requests.total,
    bad: r.non2xx + r.errors,
  };
}

const targets = [await start("lease8", 8), await start("lease0", 0)];
for (const t of targets) for (const a of SPREADS) await drive(`${t.url}${args.route}`, 2000, a);
console.log(
  `load ${os.loadavg()[0].toFixed(2)}; ${args.route}, ${args.requests} requests per row, 10 connections`,
);
for (let round = 0; round < Number(args.rounds); round++) {
  for (const addresses of SPREADS) {
    const order = round % 2 ? [...targets].reverse() : targets;
    for (const t of order) {
      const m = await measure(t, addresses);
      console.log(
        `round ${round + 1} ${addresses} addresses ${t.label}: ${m.ms.toFixed(3)} CPU ms/req, ${m.calls.toFixed(2)} limiter calls/req, non-2xx+errors ${m.bad}`,
      );
    }
  }
}
console.log(`load ${os.loadavg()[0].toFixed(2)}`);
for (const p of procs) p.stop();
