#!/usr/bin/env node
// Real-time session benchmark (issue "Real-time sessions", bench item):
//   1. how many concurrent sockets one local service holds, with some of them chatting;
//   2. time from `chat.send` to the first `chat.delta` (p50/p99), against the model's own
//      first-token latency measured straight at the emulator under the same pattern.
// Three servers, reported separately:
//   - "bare":      the reference, bench/ws/bare/worker.ts (sockets held by a hibernating Durable
//                  Object per user and nothing else), run by Miniflare directly;
//   - "miniflare": the service's bundled Worker run by Miniflare/workerd directly (bench/ws/miniflare-server.mjs);
//   - "wrangler":  the service under `wrangler dev`, whose proxy sits between the clients and workerd.
// Memory is the resident set of each server's whole process group (Linux /proc).
// The RunPod emulator runs in its own process; clients use the `ws` package.
//   node bench/ws/run.mjs [--target all|bare|miniflare|wrangler|both] [--sockets 5000] [--chatting 1000]
//     [--per-user 1] [--samples 200] [--duration 30] [--think-ms 2000] [--tokens 20] [--write]
// BENCH_WS_SERVER_LOG=<file> keeps the server's output (its error lines say why turns failed).
// `--trace <dir>` keeps per-turn traces on three clocks (client, session, emulator) for
// `node bench/ws/trace.mjs <dir>`, which splits each turn's path into segments; with
// MINIFLARE_WORKERD_V8_FLAGS="--trace-gc" it also sums workerd's GC pauses.
// BENCH_WS_INSPECTOR_PORT=<port> opens workerd's inspector (heap or CPU profiles while it runs).
// `--skip-direct` leaves out the model-alone reference (diagnostic runs only: no "above the model").
// `--write` replaces the generated block named `--block` (default "main") of bench/ws/RESULTS.md
// with this run's figures.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import {
  groupCpuMs,
  groupRssMb,
  machine,
  root,
  startProcess,
  waitFor,
  wranglerBin,
} from "../lib/harness.mjs";

const { values: args } = parseArgs({
  options: {
    target: { type: "string", default: "all" },
    sockets: { type: "string", default: "5000" },
    chatting: { type: "string", default: "1000" },
    "per-user": { type: "string", default: "1" },
    samples: { type: "string", default: "200" },
    duration: { type: "string", default: "60" },
    ramp: { type: "string", default: "60" },
    "think-ms": { type: "string", default: "20000" },
    tokens: { type: "string", default: "20" },
    "first-token-ms": { type: "string", default: "50" },
    "token-delay-ms": { type: "string", default: "20" },
    db: { type: "string", default: "d1" },
    write: { type: "boolean", default: false },
    // Where the servers keep their local state (D1, Durable Objects). A tmpfs (/dev/shm) takes
    // the disk's fsync out of the figures: on a VM shared with other work it dominated them.
    "state-dir": { type: "string", default: os.tmpdir() },
    block: { type: "string", default: "main" },
    // A directory for per-turn traces (client, session, emulator clocks), joined by trace.mjs.
    trace: { type: "string" },
    // Diagnostic runs: skip the model-alone reference (the report then has no "above the model").
    "skip-direct": { type: "boolean", default: false },
  },
});
const SOCKETS = Number(args.sockets);
const CHATTING = Math.min(Number(args.chatting), SOCKETS);
const PER_USER = Number(args["per-user"]);
const SAMPLES = Number(args.samples);
const DURATION_MS = Number(args.duration) * 1000;
const THINK_MS = Number(args["think-ms"]);
const RAMP_MS = Number(args.ramp) * 1000;
const TOKENS = Number(args.tokens);
const FIRST_TOKEN_MS = Number(args["first-token-ms"]);
const TOKEN_DELAY_MS = Number(args["token-delay-ms"]);
const TARGETS = { all: ["bare", "miniflare", "wrangler"], both: ["miniflare", "wrangler"] }[args.target] ?? [
  args.target,
];
const DB = args.db;
/** wrangler.toml's `localConnectionString` for HYPERDRIVE points here. */
const POSTGRES_PORT = 54329;
const PORTS = { miniflare: 8901, wrangler: 8902, emulator: 8903, bare: 8904 };
const CHARACTER = "chr_sample_marrow_vell";
const OPEN_CONCURRENCY = 100;
const HTTP_CONCURRENCY = 32;
const REPLY_TIMEOUT_MS = 60_000;
const HANDSHAKE_TIMEOUT_MS = 30_000;

const scratch = mkdtempSync(path.join(args["state-dir"], "bench-ws-"));
const procs = [];
/** Per-turn client records (`--trace`): epoch ms at send and at the first delta. */
const clientTrace = [];
if (args.trace) mkdirSync(args.trace, { recursive: true });
const log = (...parts) => console.log(`[bench/ws ${new Date().toISOString().slice(11, 19)}]`, ...parts);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const stats = (values) => ({ n: values.length, p50: percentile(values, 50), p99: percentile(values, 99) });
const ms = (value) => (value === null || value === undefined ? "-" : value.toFixed(1));

/** Runs `task(i)` for i in 0..count-1, at most `limit` at once. */
async function pool(count, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

// Servers

const VARS = {
  RATE_API_PER_S: "1000000",
  RATE_API_BURST: "1000000",
  RATE_STRICT_PER_S: "1000000",
  RATE_STRICT_BURST: "1000000",
  // 5 000 guests come from one address: the per-IP guest allowance (API.md) would refuse them.
  GUEST_PER_IP_PER_HOUR: "1000000",
  // 200 sequential turns on one socket: neither the per-user turn limit (20 a minute) nor the
  // daily credits (100 for a guest) may refuse them; the chatting users stay under both anyway.
  CHAT_TURNS_PER_MIN: "1000000",
  DAILY_CREDITS_GUEST: "1000000",
  // Each turn logs when its phases ended (src/realtime/turn-timing.ts); summarised per run.
  TURN_TIMING: "1",
  LLM_BASE_URL: `http://127.0.0.1:${PORTS.emulator}/openai/v1`,
  DB_BACKEND: DB,
};

async function startPostgres() {
  const { applyPostgresMigrations, startEmbeddedPostgres } = await import("../../scripts/lib/postgres.mjs");
  const pg = await startEmbeddedPostgres({ port: POSTGRES_PORT });
  await applyPostgresMigrations(pg.url);
  return pg;
}

let emulatorProc = null;
async function startEmulator() {
  const proc = startProcess(
    [
      path.join(root, "emulator/runpod/server.mjs"),
      "--port",
      String(PORTS.emulator),
      "--first-token-ms",
      String(FIRST_TOKEN_MS),
      "--token-delay-ms",
      String(TOKEN_DELAY_MS),
    ],
    { env: args.trace ? { EMULATOR_CHAT_TIMING: "1" } : {} },
  );
  procs.push(proc);
  emulatorProc = proc;
  await waitFor(`http://127.0.0.1:${PORTS.emulator}/`, proc);
  return proc;
}

async function startService(target) {
  const persist = path.join(scratch, target);
  let proc;
  if (target === "miniflare" || target === "bare") {
    const vars = Object.entries(VARS).flatMap(([k, v]) => ["--var", `${k}=${v}`]);
    proc = startProcess([
      path.join(root, "bench/ws/miniflare-server.mjs"),
      "--port",
      String(PORTS[target]),
      "--persist",
      persist,
      ...(target === "bare" ? ["--config", "bench/ws/bare/wrangler.toml"] : vars),
      ...(process.env.BENCH_WS_INSPECTOR_PORT
        ? ["--inspector-port", process.env.BENCH_WS_INSPECTOR_PORT]
        : []),
    ]);
  } else {
    execFileSync(
      process.execPath,
      [wranglerBin, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
      {
        cwd: root,
        env: { ...process.env, CI: "1" },
        stdio: "ignore",
      },
    );
    const vars = Object.entries(VARS).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
    proc = startProcess([
      wranglerBin,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(PORTS.wrangler),
      "--persist-to",
      persist,
      "--log-level",
      "error",
      "--show-interactive-dev-session=false",
      ...vars,
    ]);
  }
  procs.push(proc);
  const base = `http://127.0.0.1:${PORTS[target]}`;
  await waitFor(`${base}/api/v1/health`, proc, 180_000);
  // Miniflare listens before the migrations have run; it prints READY after them.
  const deadline = Date.now() + 120_000;
  while (target !== "wrangler" && !proc.output().includes("READY")) {
    if (Date.now() > deadline || proc.child.exitCode !== null)
      throw new Error(`not ready:\n${proc.output().slice(-2000)}`);
    await sleep(200);
  }
  return { proc, base };
}

// Clients

async function api(base, pathname, { token, body } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}/api/v1${pathname}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body ?? {}),
  });
  if (!res.ok) throw new Error(`${pathname}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A socket whose frames resolve waiters keyed by chat id. */
function openSocket(base, token) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/api/v1/ws?token=${token}`, {
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    const client = { ws, open: false, waiters: new Map(), pongs: 0, closeCode: null };
    ws.on("open", () => {
      client.open = true;
      resolve(client);
    });
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === "pong") {
        client.pongs++;
        client.onPong?.();
        return;
      }
      const chatId = frame.chat_id ?? frame.message?.chat_id;
      client.waiters.get(chatId)?.(frame);
    });
    ws.on("unexpected-response", (_req, res) => {
      client.failure = `HTTP ${res.statusCode}`;
      resolve(client);
    });
    ws.on("error", (error) => {
      client.failure ??= error.code ?? error.message;
      client.open = false;
      resolve(client);
    });
    ws.on("close", (code) => {
      client.open = false;
      client.closeCode = code;
    });
  });
}

/** Sends one chat.send and times it: first delta and done, from the client's clock. */
function exchange(client, chatId, content) {
  return new Promise((resolve) => {
    const started = performance.now();
    const sentAt = Date.now();
    let first = null;
    let echo = null;
    const timer = setTimeout(() => finish("timeout"), REPLY_TIMEOUT_MS);
    function finish(outcome) {
      clearTimeout(timer);
      client.waiters.delete(chatId);
      if (args.trace)
        clientTrace.push({
          via: "service",
          chat: chatId,
          text: content,
          sent: sentAt,
          first: first === null ? null : sentAt + first,
          outcome,
        });
      resolve({ outcome, first, echo, done: performance.now() - started });
    }
    client.waiters.set(chatId, (frame) => {
      if (frame.type === "chat.message" && echo === null) echo = performance.now() - started;
      if (frame.type === "chat.delta" && first === null) first = performance.now() - started;
      else if (frame.type === "chat.done")
        finish(frame.message.status === "complete" ? "complete" : frame.message.status);
      else if (frame.type === "error") finish(`error:${frame.code}`);
    });
    client.ws.send(JSON.stringify({ type: "chat.send", chat_id: chatId, content }));
  });
}

/** Pings every socket; resolves to how many answered within `timeoutMs`. */
async function heldSockets(clients, timeoutMs = 15_000) {
  const open = clients.filter((c) => c.open);
  let answered = 0;
  await Promise.all(
    open.map(
      (c) =>
        new Promise((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          c.onPong = () => {
            clearTimeout(timer);
            c.onPong = null;
            answered++;
            resolve();
          };
          try {
            c.ws.send('{"type":"ping"}');
          } catch {
            resolve();
          }
        }),
    ),
  );
  return answered;
}

/**
 * `users` chatting: each sends a first message at a random moment of the ramp (the chat's
 * first turn, read from the database: "cold"), then for `durationMs` keeps sending, waiting
 * for chat.done and thinking THINK_MS/2..3*THINK_MS/2 between messages ("warm" turns).
 */
async function chatLoad(users, durationMs, converse) {
  const cold = { firsts: [], outcomes: {} };
  const warm = { firsts: [], echoes: [], dones: [], outcomes: {} };
  const count = (bucket, outcome) => {
    bucket.outcomes[outcome] = (bucket.outcomes[outcome] ?? 0) + 1;
  };
  const rampEnd = performance.now() + RAMP_MS;
  const deadline = rampEnd + durationMs;
  await Promise.all(
    users.map(async (user, i) => {
      await sleep(Math.random() * RAMP_MS);
      const first = await converse(user, `user ${i} says hello [[emu:tokens=${TOKENS}]]`);
      count(cold, first.outcome);
      if (first.first !== null) cold.firsts.push(first.first);
      await sleep(Math.max(0, rampEnd - performance.now()) + Math.random() * THINK_MS);
      for (let turn = 1; performance.now() < deadline; turn++) {
        const result = await converse(
          user,
          `user ${i} turn ${turn}, tell me of the marsh [[emu:tokens=${TOKENS}]]`,
        );
        count(warm, result.outcome);
        if (result.first !== null) warm.firsts.push(result.first);
        if (typeof result.echo === "number") warm.echoes.push(result.echo);
        if (result.outcome === "complete") warm.dones.push(result.done);
        await sleep(THINK_MS * (0.5 + Math.random()));
      }
    }),
  );
  return {
    cold: { first: stats(cold.firsts), outcomes: cold.outcomes },
    first: stats(warm.firsts),
    echo: stats(warm.echoes),
    done: stats(warm.dones),
    outcomes: warm.outcomes,
    turnsPerSecond: warm.firsts.length / (durationMs / 1000),
  };
}

// The model alone: the same request straight at the emulator.

async function directExchange(content) {
  const started = performance.now();
  const sentAt = Date.now();
  const res = await fetch(`http://127.0.0.1:${PORTS.emulator}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer bench" },
    body: JSON.stringify({
      model: "emulator-chat",
      stream: true,
      messages: [
        { role: "system", content: "You are a bench." },
        { role: "user", content },
      ],
    }),
  });
  let first = null;
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    if (first === null && decoder.decode(chunk, { stream: true }).includes('"content"'))
      first = performance.now() - started;
  }
  if (args.trace)
    clientTrace.push({
      via: "direct",
      text: content,
      sent: sentAt,
      first: first === null ? null : sentAt + first,
    });
  return { outcome: res.ok ? "complete" : `http:${res.status}`, first, done: performance.now() - started };
}

async function directBaseline() {
  log(`model alone: ${SAMPLES} sequential requests`);
  const sequential = [];
  for (let k = 0; k < SAMPLES; k++) {
    const { first } = await directExchange(`sample ${k} [[emu:tokens=3]]`);
    if (first !== null) sequential.push(first);
  }
  log(`model alone: ${CHATTING} users chatting for ${DURATION_MS / 1000} s`);
  const users = Array.from({ length: CHATTING }, (_, i) => i);
  const loaded = await chatLoad(users, DURATION_MS, (_user, content) => directExchange(content));
  return { sequential: stats(sequential), loaded };
}

/**
 * The service's own timing lines of the chatting phase (TURN_TIMING=1): per kind of turn
 * (woke the object or not; context from memory, storage or the database), p50/p99 of the
 * time from the frame reaching the session to the end of each phase.
 */
function turnPhases(output) {
  const groups = new Map();
  for (const line of output.split("\n")) {
    if (!line.includes('"turn timing"')) continue;
    let t;
    try {
      t = JSON.parse(line);
    } catch {
      continue;
    }
    const key = `${t.woken ? "woke the session" : "session awake"}, context from ${t.source ?? "?"}`;
    const group = groups.get(key) ?? {};
    for (const [phase, value] of Object.entries(t)) {
      if (typeof value !== "number") continue;
      group[phase] ??= [];
      group[phase].push(value);
    }
    group.n = (group.n ?? 0) + 1;
    groups.set(key, group);
  }
  const order = ["charged", "checked", "context", "requested", "stored", "first_token", "first_delta"];
  return [...groups].map(([kind, group]) => ({
    kind,
    n: group.n,
    phases: order.filter((phase) => group[phase]).map((phase) => ({ phase, ...stats(group[phase]) })),
  }));
}

// One target

async function runTarget(target) {
  const result = { target, sockets: SOCKETS, chatting: CHATTING, perUser: PER_USER };
  log(`${target}: starting the service`);
  const { proc, base } = await startService(target);
  const alive = () => proc.child.exitCode === null;
  const rss = () => groupRssMb(proc.child.pid);
  try {
    const userCount = Math.ceil(SOCKETS / PER_USER);
    log(`${target}: ${userCount} guests, ${CHATTING} chats`);
    const users = new Array(userCount);
    await pool(userCount, HTTP_CONCURRENCY, async (i) => {
      users[i] = await api(base, "/auth/guest", { body: { display_name: `bench ${i}` } });
    });
    const chats = new Array(target === "bare" ? 0 : CHATTING);
    await pool(chats.length, HTTP_CONCURRENCY, async (i) => {
      chats[i] = await api(base, "/chats", { token: users[i].token, body: { character_id: CHARACTER } });
    });

    log(`${target}: opening ${SOCKETS} sockets`);
    const clients = new Array(SOCKETS);
    const failures = {};
    let consecutiveFailures = 0;
    let firstFailureAt = null;
    result.rssBeforeOpen = rss();
    const openStarted = performance.now();
    await pool(SOCKETS, OPEN_CONCURRENCY, async (i) => {
      if (consecutiveFailures >= 500) return;
      const client = await openSocket(base, users[Math.floor(i / PER_USER)].token);
      clients[i] = client;
      if (client.open) {
        consecutiveFailures = 0;
      } else {
        consecutiveFailures++;
        firstFailureAt ??= clients.filter((c) => c?.open).length;
        failures[client.failure] = (failures[client.failure] ?? 0) + 1;
      }
    });
    result.openSeconds = (performance.now() - openStarted) / 1000;
    result.opened = clients.filter((c) => c?.open).length;
    result.openFailures = failures;
    result.firstFailureAt = firstFailureAt;
    log(`${target}: opened ${result.opened} in ${result.openSeconds.toFixed(1)} s`, failures);
    await sleep(2000);
    result.heldAfterOpen = alive() ? await heldSockets(clients.filter(Boolean)) : 0;
    result.rssAfterOpen = rss();
    result.closedDuringOpen = clients.filter((c) => c?.closeCode).length;
    log(`${target}: ${result.heldAfterOpen} sockets answer ping`);
    if (!alive() || result.heldAfterOpen === 0) {
      log(`${target}: the service stopped answering; its last words:\n${proc.output().slice(-3000)}`);
      result.died = true;
      return result;
    }
    if (target === "bare") {
      for (const c of clients) c?.ws.terminate();
      return result;
    }

    log(`${target}: ${SAMPLES} sequential exchanges (all other sockets idle)`);
    const sampler = await api(base, "/auth/guest", { body: { display_name: "sampler" } });
    const samplerChat = await api(base, "/chats", {
      token: sampler.token,
      body: { character_id: CHARACTER },
    });
    const samplerClient = await openSocket(base, sampler.token);
    const sequential = [];
    const sequentialOutcomes = {};
    for (let k = 0; k < SAMPLES && samplerClient.open; k++) {
      const r = await exchange(samplerClient, samplerChat.id, `sample ${k} [[emu:tokens=3]]`);
      sequentialOutcomes[r.outcome] = (sequentialOutcomes[r.outcome] ?? 0) + 1;
      if (r.first !== null) sequential.push(r.first);
    }
    result.sequential = { ...stats(sequential), outcomes: sequentialOutcomes };

    const chattingClients = clients
      .map((client, i) => ({ client, chat: chats[Math.floor(i / PER_USER)] }))
      .filter(({ client, chat }, i) => client?.open && chat && i % PER_USER === 0)
      .slice(0, CHATTING);
    log(`${target}: ${chattingClients.length} users chatting for ${DURATION_MS / 1000} s, the rest idle`);
    const [cpuBefore, chatStarted] = [groupCpuMs(proc.child.pid), performance.now()];
    const outputBefore = proc.output().length;
    result.loaded = await chatLoad(chattingClients, DURATION_MS, ({ client, chat }, content) =>
      client.open ? exchange(client, chat.id, content) : Promise.resolve({ outcome: "closed", first: null }),
    );
    // How busy the server was while chatting: 100 % is one core.
    result.cpuPercentChatting =
      (100 * (groupCpuMs(proc.child.pid) - cpuBefore)) / (performance.now() - chatStarted);
    result.phases = turnPhases(proc.output().slice(outputBefore));
    result.heldAfterChat = alive() ? await heldSockets(clients.filter(Boolean)) : 0;
    result.rssAfterChat = rss();
    result.closedByServer = {};
    for (const c of clients) {
      if (c?.closeCode) result.closedByServer[c.closeCode] = (result.closedByServer[c.closeCode] ?? 0) + 1;
    }
    result.serverAlive = alive();
    log(`${target}: ${result.heldAfterChat} sockets answer ping after chatting`);
    for (const c of [...clients, samplerClient]) c?.ws.terminate();
    return result;
  } catch (error) {
    log(`${target}: failed; the service said:\n${proc.output().slice(-3000)}`);
    throw error;
  } finally {
    if (process.env.BENCH_WS_SERVER_LOG) writeFileSync(process.env.BENCH_WS_SERVER_LOG, proc.output());
    if (args.trace) writeFileSync(path.join(args.trace, `${target}.server.log`), proc.output());
    proc.stop();
    await sleep(2000);
  }
}

function report(results, baseline) {
  const mb = (value) => (typeof value === "number" ? value.toFixed(0) : "-");
  const perSocketKib = (r) =>
    typeof r.rssAfterOpen === "number" && r.heldAfterOpen > 0
      ? (((r.rssAfterOpen - r.rssBeforeOpen) * 1024) / r.heldAfterOpen).toFixed(1)
      : "-";
  const socketRows = results.map(
    (r) =>
      `| ${r.target} | ${r.sockets} | ${r.opened} in ${r.openSeconds?.toFixed(0) ?? "-"} s | ${r.firstFailureAt === null ? "none" : `after ${r.firstFailureAt} open: ${JSON.stringify(r.openFailures)}`} | ${r.heldAfterOpen} / ${r.died ? "service gone" : (r.heldAfterChat ?? "(no chat)")} | ${mb(r.rssBeforeOpen)} / ${mb(r.rssAfterOpen)} / ${mb(r.rssAfterChat)} | ${perSocketKib(r)} |`,
  );
  const rows = results
    .filter((r) => r.loaded)
    .map((r) => {
      const l = r.loaded;
      if (r.sequential.n === 0 || r.heldAfterChat === 0) {
        return `| ${r.target} | no figures: the service stopped serving sockets (${r.sequential.n} sequential replies, ${l.first.n} warm replies; sockets closed (code: n) ${JSON.stringify(r.closedByServer)}) | | | | | | | |`;
      }
      return `| ${r.target} | ${ms(r.sequential.p50)} / ${ms(r.sequential.p99)} (+${ms(r.sequential.p50 - baseline.sequential.p50)} / +${ms(r.sequential.p99 - baseline.sequential.p99)}) | ${ms(l.cold.first.p50)} / ${ms(l.cold.first.p99)} | ${l.turnsPerSecond.toFixed(1)} | ${r.cpuPercentChatting.toFixed(0)} % | ${ms(l.first.p50)} / ${ms(l.first.p99)} (+${ms(l.first.p50 - baseline.loaded.first.p50)} / +${ms(l.first.p99 - baseline.loaded.first.p99)}) | ${ms(l.echo.p50)} / ${ms(l.echo.p99)} | ${ms(l.done.p50)} / ${ms(l.done.p99)} | ${JSON.stringify({ ...l.cold.outcomes, ...Object.fromEntries(Object.entries(l.outcomes).map(([k, v]) => [`warm ${k}`, v])) })}${Object.keys(r.closedByServer ?? {}).length ? `; sockets closed (code: n) ${JSON.stringify(r.closedByServer)}` : ""}${r.serverAlive === false ? "; the server process exited" : ""} |`;
    });
  return `Run: \`node bench/ws/run.mjs ${process.argv.slice(2).join(" ")}\` on ${new Date().toISOString()}.
Machine: ${machine()}; \`ulimit -n\` ${execFileSync("sh", ["-c", "ulimit -n"]).toString().trim()}.
State (D1, Durable Objects): ${args["state-dir"]}.
Database: ${DB === "postgres" ? "PostgreSQL (embedded, through the HYPERDRIVE binding; local dev connects straight to it)" : "D1 (local SQLite)"}.
Emulator (own process): first token ${FIRST_TOKEN_MS} ms, then a token every ${TOKEN_DELAY_MS} ms; chat replies ${TOKENS} tokens, sequential samples 3 tokens.
Pattern: ${SOCKETS} sockets (${PER_USER} per user) opened ${OPEN_CONCURRENCY} at a time and held; ${SAMPLES} sequential exchanges on one more
socket while they idle; then ${CHATTING} of the users chat: a first message each at a random moment of a ${RAMP_MS / 1000} s ramp ("cold":
the chat is read from D1), then ${DURATION_MS / 1000} s of send / wait for chat.done / think ${THINK_MS / 2000}..${(THINK_MS * 3) / 2000} s ("warm"), the other sockets idle.
Latency: client clock from sending \`chat.send\` to the first \`chat.delta\`; (+x) is above the model alone.

The model alone (the same requests straight at the emulator from this process): sequential first token p50 ${ms(baseline.sequential.p50)} / p99 ${ms(baseline.sequential.p99)} ms;
the same ${CHATTING} users chatting: first token p50 ${ms(baseline.loaded.first.p50)} / p99 ${ms(baseline.loaded.first.p99)} ms (${baseline.loaded.first.n} warm replies).

Sockets held (RSS: the server's whole process group; per socket: (after open - before open) / sockets answering ping):

| path | sockets asked | opened | first refusal | answer ping (after open / after chat) | RSS MiB (before / after open / after chat) | KiB per socket |
|---|---:|---:|---|---:|---:|---:|
${socketRows.join("\n")}

Chat latency (the other sockets idle or chatting as the pattern says):

| path | sequential send->delta p50 / p99 ms | cold first turn p50 / p99 ms | warm turns/s | server CPU while chatting (100 % = 1 core) | warm send->delta p50 / p99 ms | warm send->echo (stored) p50 / p99 ms | warm send->done p50 / p99 ms | outcomes |
|---|---:|---:|---:|---:|---:|---:|---:|---|
${rows.join("\n")}
${results
  .filter((r) => r.phases?.length)
  .map(
    (r) => `
Where a ${r.target} turn's time goes while chatting (the session's clock, ms from the frame reaching it to the end of each phase, p50 / p99; workerd's clock moves at I/O):

| turns | n | ${PHASE_NAMES.join(" | ")} |
|---|---:|${PHASE_NAMES.map(() => "---:").join("|")}|
${r.phases
  .map(
    (g) =>
      `| ${g.kind} | ${g.n} | ${PHASE_KEYS.map((key) => {
        const p = g.phases.find((x) => x.phase === key);
        return p ? `${ms(p.p50)} / ${ms(p.p99)}` : "-";
      }).join(" | ")} |`,
  )
  .join("\n")}
`,
  )
  .join("")}`;
}

const PHASE_KEYS = ["charged", "checked", "context", "requested", "stored", "first_token", "first_delta"];
const PHASE_NAMES = [
  "credit charged",
  "context checked",
  "context ready",
  "model asked",
  "user message stored",
  "first token in",
  "first delta out",
];

async function main() {
  await startEmulator();
  if (DB === "postgres") {
    const pg = await startPostgres();
    procs.push({ stop: () => pg.stop() });
  }
  const results = [];
  for (const target of TARGETS) {
    const r = await runTarget(target);
    log(JSON.stringify(r));
    results.push(r);
  }
  const baseline = args["skip-direct"]
    ? { sequential: stats([]), loaded: { first: stats([]) } }
    : await directBaseline();
  log(JSON.stringify({ baseline }));
  if (args.trace) {
    writeFileSync(
      path.join(args.trace, "client.jsonl"),
      clientTrace.map((t) => JSON.stringify(t)).join("\n"),
    );
    writeFileSync(path.join(args.trace, "emulator.log"), emulatorProc.output());
  }
  const text = report(results, baseline);
  console.log(`\n${text}`);
  if (args.write) {
    const file = path.join(root, "bench/ws/RESULTS.md");
    const current = readFileSync(file, "utf8");
    const start = `<!-- generated:${args.block}:start -->`;
    const end = `<!-- generated:${args.block}:end -->`;
    if (!current.includes(start) || !current.includes(end))
      throw new Error(`${file} has no block ${args.block}`);
    writeFileSync(
      file,
      `${current.slice(0, current.indexOf(start) + start.length)}\n${text}\n${current.slice(current.indexOf(end))}`,
    );
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const p of procs) p.stop();
    setTimeout(() => {
      rmSync(scratch, { recursive: true, force: true });
      process.exit();
    }, 2000);
  });
