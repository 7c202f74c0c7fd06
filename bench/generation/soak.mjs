#!/usr/bin/env node
// Soak of the generation pipeline: 1000 jobs through the whole local stack (wrangler dev with
// local D1, Queues, R2, Durable Objects; the RunPod emulator at 2 s GPU time with 5 % injected
// faults), many guest users, then checks that every job reached exactly one terminal state,
// none was lost and none ran twice upstream. Results and how to read them: RESULTS.md here.
//
//   node bench/generation/soak.mjs [--jobs 1000] [--users 300] [--burst 600] [--in-flight 100]
//     [--concurrency 50] [--rounds 4] [--gpu-ms 2000] [--fault-rate 0.05] [--out result.json]
//     [--url http://127.0.0.1:8787 --emulator-url http://127.0.0.1:8788 --hello-url http://...]
//
// Without --url it starts its own stack on free ports with a throwaway state directory
// (bench/generation/stack.mjs), so it never disturbs a running `npm run dev`. With --url it
// drives a running one (`npm run dev`), whose emulator it reconfigures.
import { writeFileSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { percentile, runPool, sleep, summary } from "./load.mjs";
import { startStack } from "./stack.mjs";

const { values: args } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000" },
    users: { type: "string", default: "300" },
    burst: { type: "string", default: "600" },
    "in-flight": { type: "string", default: "100" },
    concurrency: { type: "string", default: "50" },
    rounds: { type: "string", default: "4" },
    "gpu-ms": { type: "string", default: "2000" },
    "fault-rate": { type: "string", default: "0.05" },
    url: { type: "string" },
    "emulator-url": { type: "string" },
    "hello-url": { type: "string" },
    out: { type: "string" },
  },
});
const JOBS = Number(args.jobs);
const USERS = Number(args.users);
const BURST = Math.min(Number(args.burst), JOBS);
const IN_FLIGHT = Number(args["in-flight"]);
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = Number(args.rounds);
const GPU_MS = Number(args["gpu-ms"]);
const FAULT_RATE = Number(args["fault-rate"]);
const QUOTA = 4;
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const PNG_SIGNATURE = "89504e470d0a1a0a";
const RUN = Math.random().toString(36).slice(2, 8);

const log = (msg) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function main() {
  const stack = args.url
    ? {
        apiUrl: args.url,
        emulatorUrl: args["emulator-url"],
        helloUrl: args["hello-url"],
        stop: async () => {},
      }
    : await startStack();
  if (!stack.emulatorUrl || !stack.helloUrl)
    throw new Error("--url needs --emulator-url and --hello-url too");
  log(`api ${stack.apiUrl}, emulator ${stack.emulatorUrl}, hello ${stack.helloUrl}`);
  try {
    return await soak(stack);
  } finally {
    await stack.stop();
  }
}

async function soak(stack) {
  const { apiUrl, emulatorUrl, helloUrl } = stack;
  const api = (path, init) => fetch(`${apiUrl}/api/v1${path}`, init);
  await post(`${emulatorUrl}/_emulator/config`, {
    gpuTimeMs: GPU_MS,
    gpuJitterMs: 0,
    queueDelayMs: 0,
    faultRate: FAULT_RATE,
  });

  log(`creating ${USERS} guest users, one client address each`);
  const { results: users } = await runPool(USERS, 20, async (i) => {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) + 1}`;
    const res = await post(`${apiUrl}/api/v1/auth/guest`, {}, { "CF-Connecting-IP": ip });
    if (res.status !== 201) throw new Error(`guest sign-in: ${res.status} ${await res.text()}`);
    const body = await res.json();
    const headers = {
      Authorization: `Bearer ${body.token}`,
      "CF-Connecting-IP": ip,
      "Content-Type": "application/json",
    };
    return { id: body.user.id, headers, active: new Set() };
  });

  /** Every job this run created: id -> record. */
  const jobs = new Map();
  let submittedCount = 0;
  const submit = async (user, phase) => {
    const index = submittedCount++;
    const tag = `s${RUN}x${index}y`;
    const body = JSON.stringify({ prompt: `soak ${tag}`, width: 256, height: 256, steps: 4 });
    const t0 = performance.now();
    const res = await fetch(`${apiUrl}/api/v1/generate`, { method: "POST", headers: user.headers, body });
    const ms = performance.now() - t0;
    const job = await res.json();
    if (res.status !== 202) return { ms, status: res.status, code: job.code };
    jobs.set(job.id, { id: job.id, tag, user, phase, first: null, final: null });
    user.active.add(job.id);
    return { ms, status: res.status };
  };
  const sameShapeAsGenerate = (i) => ({
    method: "POST",
    headers: users[i % users.length].headers,
    body: JSON.stringify({ prompt: `soak hello ${i}`, width: 256, height: 256, steps: 4 }),
  });

  log("warming up both workers");
  await runPool(200, 20, (i) => fetch(`${helloUrl}/`, sameShapeAsGenerate(i)).then((r) => r.arrayBuffer()));
  await runPool(50, 10, () => api("/health").then((r) => r.arrayBuffer()));

  // Phase A: throughput. The machine is shared, so the bare worker and the enqueue path are
  // measured in alternating rounds of the same size and concurrency, and compared per round.
  const burstUsers = users.slice(0, Math.ceil(BURST / QUOTA));
  const rounds = [];
  const perRound = Math.floor(BURST / ROUNDS / QUOTA) * QUOTA;
  log(
    `phase A: ${ROUNDS} rounds of ${perRound} hello POSTs then ${perRound} POST /generate, concurrency ${CONCURRENCY}`,
  );
  for (let round = 0; round < (perRound > 0 ? ROUNDS : 0); round++) {
    const hello = await runPool(perRound, CONCURRENCY, async (i) => {
      const t0 = performance.now();
      const res = await fetch(`${helloUrl}/`, sameShapeAsGenerate(i));
      await res.arrayBuffer();
      return { ms: performance.now() - t0, status: res.status };
    });
    const roundUsers = burstUsers.slice((round * perRound) / QUOTA, ((round + 1) * perRound) / QUOTA);
    const enqueue = await runPool(perRound, CONCURRENCY, (i) =>
      submit(roundUsers[Math.floor(i / QUOTA)], "A"),
    );
    const rps = (run) => run.results.filter((r) => r.status < 300).length / run.seconds;
    rounds.push({
      hello: rps(hello),
      enqueue: rps(enqueue),
      ratio: rps(enqueue) / rps(hello),
      loadavg: os.loadavg()[0],
      helloMs: hello.results.map((r) => r.ms),
      enqueueMs: enqueue.results.map((r) => r.ms),
      rejected: enqueue.results.filter((r) => r.status !== 202).map((r) => `${r.status} ${r.code}`),
    });
    log(`round ${round + 1}: hello ${rps(hello).toFixed(0)} req/s, enqueue ${rps(enqueue).toFixed(0)} req/s`);
  }
  const throughput = {
    rounds: rounds.map(({ hello, enqueue, ratio, loadavg }) => ({ hello, enqueue, ratio, loadavg })),
    helloRps: rounds.reduce((a, r) => a + r.hello, 0) / ROUNDS,
    enqueueRps: rounds.reduce((a, r) => a + r.enqueue, 0) / ROUNDS,
    medianRatio: percentile(
      rounds.map((r) => r.ratio),
      50,
    ),
    helloLatencyMs: summary(rounds.flatMap((r) => r.helloMs)),
    enqueueLatencyMs: summary(rounds.flatMap((r) => r.enqueueMs)),
    rejected: countBy(
      rounds.flatMap((r) => r.rejected),
      (r) => r,
    ),
  };
  log("draining phase A");
  await drain(api, jobs, burstUsers);

  const closedLoopJobs = JOBS - submittedCount;
  log(`phase B: ${closedLoopJobs} jobs closed-loop with ~${IN_FLIGHT} in flight`);
  const loopUsers = users.slice(burstUsers.length);
  const inFlightNow = () => loopUsers.reduce((n, u) => n + u.active.size, 0);
  const inFlightSamples = [];
  const sampler = setInterval(() => inFlightSamples.push(inFlightNow()), 200);
  let cursor = 0;
  const phaseBStarted = performance.now();
  while (submittedCount < JOBS || loopUsers.some((u) => u.active.size > 0)) {
    const inFlight = inFlightNow();
    const wanted = Math.min(IN_FLIGHT - inFlight, JOBS - submittedCount);
    const picks = [];
    for (let tries = 0; picks.length < wanted && tries < loopUsers.length; tries++) {
      const user = loopUsers[cursor++ % loopUsers.length];
      if (user.active.size + picks.filter((p) => p === user).length < QUOTA) picks.push(user);
    }
    await Promise.all(picks.map((user) => submit(user, "B")));
    await sleep(250);
    await poll(
      api,
      jobs,
      loopUsers.filter((u) => u.active.size > 0),
    );
    if (performance.now() - phaseBStarted > 15 * 60_000) throw new Error("phase B did not finish in 15 min");
  }
  clearInterval(sampler);

  log("verifying every job");
  return verify({ api, emulatorUrl, jobs, throughput, inFlightSamples, stack });
}

/** Polls each user's history until none of `users` has an active job left. */
async function drain(api, jobs, users) {
  const deadline = Date.now() + 10 * 60_000;
  while (users.some((u) => u.active.size > 0)) {
    if (Date.now() > deadline) throw new Error("jobs still active after 10 min");
    await sleep(500);
    await poll(
      api,
      jobs,
      users.filter((u) => u.active.size > 0),
    );
  }
}

/** One look at each user's newest jobs; records the first terminal state seen for each. */
async function poll(api, jobs, users) {
  await runPool(users.length, 16, async (i) => {
    const user = users[i];
    const res = await api("/generations?limit=20", { headers: user.headers });
    if (!res.ok) return;
    const { items } = await res.json();
    for (const item of items) {
      const job = jobs.get(item.id);
      if (job && !job.first && TERMINAL.has(item.status)) {
        job.first = item;
        user.active.delete(item.id);
      }
    }
  });
}

async function verify({ api, emulatorUrl, jobs, throughput, inFlightSamples, stack }) {
  const all = [...jobs.values()];
  await runPool(all.length, 16, async (i) => {
    const job = all[i];
    const res = await api(`/generations/${job.id}`, { headers: job.user.headers });
    job.final = res.ok ? await res.json() : { status: `http ${res.status}` };
  });
  const upstream = (await (await fetch(`${emulatorUrl}/_emulator/jobs?prompt_contains=s${RUN}x`)).json())
    .jobs;
  const upstreamByTag = new Map();
  for (const u of upstream) {
    const tag = /s\w+x\d+y/.exec(u.input.prompt ?? "")?.[0];
    if (!upstreamByTag.has(tag)) upstreamByTag.set(tag, []);
    upstreamByTag.get(tag).push(u);
  }

  const problems = [];
  for (const job of all) {
    const ups = upstreamByTag.get(job.tag) ?? [];
    job.upstream = ups;
    if (!TERMINAL.has(job.final.status)) problems.push(`${job.id} not terminal: ${job.final.status}`);
    if (job.first && job.first.status !== job.final.status)
      problems.push(`${job.id} changed ${job.first.status} -> ${job.final.status}`);
    if (ups.length !== 1 && job.final.attempts <= 1)
      problems.push(`${job.id} has ${ups.length} upstream jobs in 1 attempt`);
    if (job.final.status === "succeeded" && job.final.images?.length !== 1)
      problems.push(`${job.id} has ${job.final.images?.length} images`);
    if (
      job.final.status === "failed" &&
      job.final.error?.code === "upstream_failed" &&
      ups.at(-1)?.fault !== "fail"
    ) {
      problems.push(`${job.id} failed upstream without an injected fault`);
    }
  }
  const succeeded = all.filter((j) => j.final.status === "succeeded");
  const badImages = [];
  await runPool(succeeded.length, 16, async (i) => {
    const res = await fetch(succeeded[i].final.images[0].url);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || bytes.subarray(0, 8).toString("hex") !== PNG_SIGNATURE)
      badImages.push(succeeded[i].id);
  });
  problems.push(...badImages.map((id) => `${id}: image URL does not serve a PNG`));

  // Latency: server timestamps of the job (created_at -> completed_at) minus the emulator's GPU time.
  const phaseB = succeeded.filter((j) => j.phase === "B");
  const parts = phaseB.map((j) => {
    const u = j.upstream.at(-1);
    const created = Date.parse(j.final.created_at);
    const started = Date.parse(j.final.started_at);
    const completed = Date.parse(j.final.completed_at);
    const upCreated = Date.parse(u.createdAt);
    const upStarted = Date.parse(u.startedAt);
    const upFinished = Date.parse(u.finishedAt);
    const gpu = upFinished - upStarted;
    return {
      fault: u.fault,
      endToEnd: completed - created,
      added: completed - created - gpu,
      queueWait: started - created,
      submit: upCreated - started,
      finish: completed - upFinished,
    };
  });
  const clean = parts.filter((p) => p.fault === null && p.submit < 500);
  const report = {
    when: new Date().toISOString(),
    loadavg: os.loadavg(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, node ${process.version}`,
    settings: {
      jobs: JOBS,
      users: USERS,
      burst: BURST,
      inFlight: IN_FLIGHT,
      concurrency: CONCURRENCY,
      gpuMs: GPU_MS,
      faultRate: FAULT_RATE,
    },
    throughput,
    phaseB: {
      meanInFlight: inFlightSamples.reduce((a, b) => a + b, 0) / Math.max(1, inFlightSamples.length),
      addedMs: {
        all: summary(parts.map((p) => p.added)),
        noInjectedFault: summary(clean.map((p) => p.added)),
      },
      endToEndMs: summary(parts.map((p) => p.endToEnd)),
      componentsMs: {
        queueWait: summary(parts.map((p) => p.queueWait)),
        submit: summary(parts.map((p) => p.submit)),
        finish: summary(parts.map((p) => p.finish)),
      },
      byFault: countBy(parts, (p) => p.fault ?? "none"),
      localQueueBatches: queueBatches(stack),
      p99AddedWebhookDropped: percentile(
        parts.filter((p) => p.fault === "webhookDrop").map((p) => p.added),
        99,
      ),
    },
    outcomes: {
      created: all.length,
      byStatus: countBy(all, (j) => j.final.status),
      byErrorCode: countBy(
        all.filter((j) => j.final.error),
        (j) => j.final.error.code,
      ),
      upstreamJobsPerJob: countBy(all, (j) => String(j.upstream.length)),
      attempts: countBy(all, (j) => String(j.final.attempts)),
      injectedFaultsSeenUpstream: countBy(upstream, (u) => u.fault ?? "none"),
      webhookCallsNot2xx: upstream.reduce((n, u) => n + u.webhookFailures, 0),
      apiResponses: stack.apiStatuses?.() ?? "not captured (--url)",
    },
    problems,
  };
  console.log(JSON.stringify(report, null, 2));
  if (args.out) writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  if (problems.length > 0) process.exitCode = 1;
  return report;
}

/** How long the local broker's batches took (wrangler dev logs them); null when not started here. */
function queueBatches(stack) {
  const batches = stack.queueBatches?.() ?? [];
  if (batches.length === 0) return null;
  return { ms: summary(batches.map((b) => b.ms)), size: summary(batches.map((b) => b.size)) };
}

function post(url, body, headers = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

function countBy(items, key) {
  const counts = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

main().catch((error) => {
  console.error(`[soak] ${error.stack ?? error}`);
  process.exit(1);
});
