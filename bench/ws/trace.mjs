#!/usr/bin/env node
// Joins the per-turn traces of `bench/ws/run.mjs --trace <dir>`: the client's clock (send,
// first delta), the session's (TURN_TIMING lines: frame reached it, model asked, response
// headers, first token, first delta out) and the emulator's (request arrived, body read,
// first token written), all epoch ms on one machine. Prints p50/p99 of each segment of a
// turn's path, for turns through the service and for the model asked directly.
//   node bench/ws/trace.mjs <dir> [--target miniflare]
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { target: { type: "string", default: "miniflare" } },
});
const dir = positionals[0];
if (!dir) throw new Error("usage: trace.mjs <dir>");

const lines = (file) =>
  readFileSync(path.join(dir, file), "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return null;
      }
    })
    .filter(Boolean);

const norm = (text) =>
  text
    .replace(/\[\[.*?\]\]/g, "")
    .trim()
    .slice(0, 60);
const client = lines("client.jsonl");
const emulator = lines("emulator.log").filter((l) => l.msg === "chat timing");
const session = lines(`${args.target}.server.log`).filter((l) => l.msg === "turn timing");

const byText = new Map();
for (const e of emulator) {
  const key = norm(e.text);
  if (!byText.has(key)) byText.set(key, []);
  byText.get(key).push(e);
}
const byChat = new Map();
for (const s of session) {
  if (!byChat.has(s.chat)) byChat.set(s.chat, []);
  byChat.get(s.chat).push(s);
}
const used = new Set();
/** The first record of `list` at or after `at` - slack, not yet taken by another turn. */
function match(list, at, field, slack = 50) {
  let best = null;
  for (const r of list ?? []) {
    if (used.has(r) || r[field] < at - slack) continue;
    if (!best || r[field] < best[field]) best = r;
  }
  if (best) used.add(best);
  return best;
}

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const fmt = (values) =>
  values.length === 0 ? "-" : `${percentile(values, 50).toFixed(0)} / ${percentile(values, 99).toFixed(0)}`;

const kindOf = (text) =>
  text.includes(" turn ") ? "warm" : text.includes("says hello") ? "cold" : "sequential";
const groups = new Map();
function add(group, segment, value) {
  if (!groups.has(group)) groups.set(group, new Map());
  const g = groups.get(group);
  if (!g.has(segment)) g.set(segment, []);
  if (typeof value === "number" && Number.isFinite(value)) g.get(segment).push(value);
}

for (const c of client) {
  if (c.first === null) continue;
  const e = match(byText.get(norm(c.text)), c.sent, "arrived");
  const group = `${c.via} ${kindOf(c.text)}`;
  if (!e || c.via === "direct") add(group, "total: client send -> client first delta", c.first - c.sent);
  if (!e) continue;
  if (c.via === "direct") {
    add(group, "client send -> emulator has request", e.arrived - c.sent);
    add(group, "emulator: request -> body read", e.body - e.arrived);
    add(group, "emulator: body read -> first token written", e.first - e.body);
    add(group, "emulator first token written -> client has it", c.first - e.first);
    continue;
  }
  const s = match(byChat.get(c.chat), c.sent, "at");
  if (!s) continue;
  const group2 = `${group}${s.woken ? " (woke the session)" : " (session awake)"}`;
  for (const g of [group, group2]) {
    add(g, "client send -> session has frame", s.at - c.sent);
    add(g, "session: frame -> model asked", s.requested);
    add(g, "model asked -> emulator has request", e.arrived - (s.at + s.requested));
    add(g, "emulator: request -> body read", e.body - e.arrived);
    add(g, "emulator: body read -> first token written", e.first - e.body);
    add(g, "model asked -> response headers in session", s.headers - s.requested);
    add(g, "emulator first token written -> session has it", s.at + s.first_token - e.first);
    add(g, "session: first token -> first delta out", s.first_delta - s.first_token);
    add(g, "session first delta out -> client has it", c.first - (s.at + s.first_delta));
    add(g, "total: client send -> client first delta", c.first - c.sent);
  }
}

for (const [group, segments] of groups) {
  const n = segments.get("total: client send -> client first delta")?.length ?? 0;
  console.log(`\n${group} (${n} turns): p50 / p99 ms`);
  for (const [segment, values] of segments) {
    if (segment.startsWith("total") && group.includes("(")) continue;
    console.log(`  ${segment.padEnd(52)} ${fmt(values)}  (n ${values.length})`);
  }
}

// V8's --trace-gc lines (MINIFLARE_WORKERD_V8_FLAGS="--trace-gc"), per isolate: every pause
// stops workerd's one thread, so every session, D1 and the outbound hop wait for it.
const gcLine =
  /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Mark-Compact|Mark-Sweep)[^,]*,.*?([\d.]+) \/ [\d.]+ ms/;
const gc = new Map();
for (const line of readFileSync(path.join(dir, `${args.target}.server.log`), "utf8").split("\n")) {
  const m = gcLine.exec(line);
  if (!m) continue;
  const key = `${m[1]} ${m[3]}`;
  if (!gc.has(key)) gc.set(key, []);
  gc.get(key).push(Number(m[4]));
}
if (gc.size > 0) {
  console.log("\nGC pauses in workerd (whole run), per isolate and kind: count, p50 / max ms, total ms");
  for (const [key, pauses] of [...gc].sort()) {
    const total = pauses.reduce((a, b) => a + b, 0);
    console.log(
      `  ${key.padEnd(32)} ${String(pauses.length).padStart(4)}  ${percentile(pauses, 50).toFixed(0)} / ${Math.max(...pauses).toFixed(0)}  ${total.toFixed(0)}`,
    );
  }
}

const fresh = emulator.filter(
  (e) => (e.on_connection ?? (e.reused === undefined ? 0 : e.reused)) === 1,
).length;
console.log(
  `\nEmulator: ${emulator.length} streamed requests (service and direct), ${fresh} of them on a new connection (the rest reused a kept-alive one).`,
);

// The slowest 2 % of warm turns through the service: which legs their time is in.
const warmRows = [];
used.clear();
for (const c of client) {
  if (c.via !== "service" || c.first === null || kindOf(c.text) !== "warm") continue;
  const e = match(byText.get(norm(c.text)), c.sent, "arrived");
  const s = match(byChat.get(c.chat), c.sent, "at");
  if (!e || !s) continue;
  warmRows.push({
    total: c.first - c.sent,
    deliver: s.at - c.sent,
    pre: s.requested,
    out: e.arrived - (s.at + s.requested),
    emulator: e.first - e.arrived,
    back: s.at + s.first_token - e.first,
    toClient: c.first - (s.at + s.first_delta),
    stall: { from: e.first, to: s.at + s.first_token },
  });
}
if (warmRows.length > 0) {
  const slow = [...warmRows].sort((a, b) => b.total - a.total).slice(0, Math.ceil(warmRows.length / 50));
  const mean = (key) => (slow.reduce((sum, r) => sum + r[key], 0) / slow.length).toFixed(0);
  console.log(
    `\nSlowest 2 % of warm turns (${slow.length} of ${warmRows.length}, >= ${slow.at(-1).total.toFixed(0)} ms), mean ms: total ${mean("total")}, frame to session ${mean("deliver")}, session to model asked ${mean("pre")}, to emulator ${mean("out")}, emulator ${mean("emulator")}, first token to session ${mean("back")}, delta to client ${mean("toClient")}`,
  );
  console.log(
    `  emulator > 100 ms in ${slow.filter((r) => r.emulator > 100).length}; workerd's legs (frame to session + session + to emulator + first token to session) > 150 ms in ${slow.filter((r) => r.deliver + r.pre + r.out + r.back > 150).length}`,
  );
}

// Which long waits for the first token in workerd (> 100 ms) overlap a GC pause >= 40 ms.
// V8's --trace-gc clock counts from isolate start: the offset is the one (searched over 400 s
// in 5 ms steps) that makes most waits overlap a pause. Check where it lands (isolates are
// made between "starting the service" and the first request) and compare with the pauses
// shifted by a few seconds, which shows what chance overlap gives.
const pausesAt = [];
for (const line of readFileSync(path.join(dir, `${args.target}.server.log`), "utf8").split("\n")) {
  const m = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (?:Scavenge|Mark-Compact)[^,]*,.*?([\d.]+) \/ [\d.]+ ms/.exec(
    line,
  );
  if (m && Number(m[2]) >= 40) pausesAt.push({ start: Number(m[1]), ms: Number(m[2]) });
}
const waits = warmRows.map((r) => r.stall).filter((w) => w.to - w.from > 100);
if (pausesAt.length > 0 && waits.length > 0) {
  const overlapping = (offset) =>
    waits.filter((w) => pausesAt.some((p) => offset + p.start < w.to && offset + p.start + p.ms > w.from - 5))
      .length;
  const from = Math.min(...waits.map((w) => w.from)) - 400_000;
  let best = { hits: -1, offset: 0 };
  for (let offset = from; offset < from + 400_000; offset += 5) {
    const hits = overlapping(offset);
    if (hits > best.hits) best = { hits, offset };
  }
  const shifted = [-7000, -3000, 3000, 7000].map((shift) => overlapping(best.offset + shift));
  console.log(
    `\nWarm turns whose first token waited > 100 ms in workerd: ${waits.length}; overlapping a GC pause >= 40 ms: ${best.hits} (isolate clock zero fitted at ${new Date(best.offset).toISOString()}); with the pauses shifted -7/-3/+3/+7 s: ${shifted.join("/")}`,
  );
}
