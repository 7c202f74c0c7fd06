import WebSocket from "ws";
const base = "http://127.0.0.1:8901/api/v1";
const post = async (p, body, token) => (await fetch(base + p, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })).json();
const N = Number(process.argv[2] ?? 200), DUR = Number(process.argv[3] ?? 20000), THINK = Number(process.argv[4] ?? 3000);
const users = [];
for (let i = 0; i < N; i += 20) users.push(...await Promise.all(Array.from({ length: Math.min(20, N - i) }, async () => { const u = await post("/auth/guest", {}); const chat = await post("/chats", { character_id: "chr_sample_marrow_vell" }, u.token); return { u, chat }; })));
const socks = [];
for (let i = 0; i < N; i += 50) socks.push(...await Promise.all(users.slice(i, i + 50).map(({ u }) => new Promise((r) => { const ws = new WebSocket(`ws://127.0.0.1:8901/api/v1/ws?token=${u.token}`); ws.on("open", () => r(ws)); }))));
console.log("ready", socks.length);
function cdp(id) { return new Promise((res) => { const ws = new WebSocket(`ws://127.0.0.1:9230/${id}`); let n = 0; const pend = new Map(); ws.on("message", (d) => { const m = JSON.parse(d); if (m.id && pend.has(m.id)) { pend.get(m.id)(m.result); pend.delete(m.id); } }); ws.on("open", () => res({ send: (method, params = {}) => new Promise((r) => { const id2 = ++n; pend.set(id2, r); ws.send(JSON.stringify({ id: id2, method, params })); }), close: () => ws.close() })); }); }
const targets = { worker: await cdp("core:user:edge-art-service"), d1: await cdp("d1:db") };
for (const t of Object.values(targets)) { await t.send("Profiler.enable"); await t.send("Profiler.setSamplingInterval", { interval: 200 }); await t.send("Profiler.start"); }
function turn(ws, chatId, content) { return new Promise((resolve) => { const t0 = performance.now(); let first; const on = (d) => { const f = JSON.parse(d); if (f.type === "chat.delta" && first === undefined) first = performance.now() - t0; if (f.type === "chat.done" || f.type === "error") { ws.off("message", on); resolve({ first }); } }; ws.on("message", on); ws.send(JSON.stringify({ type: "chat.send", chat_id: chatId, content })); }); }
const firsts = []; const end = performance.now() + DUR; let turns = 0;
await Promise.all(socks.map(async (ws, i) => { await new Promise((r) => setTimeout(r, Math.random() * THINK)); while (performance.now() < end) { const r = await turn(ws, users[i].chat.id, `t ${i} [[emu:tokens=20]]`); turns++; if (r.first !== undefined) firsts.push(r.first); await new Promise((r) => setTimeout(r, THINK * (0.5 + Math.random()))); } }));
const s = firsts.sort((a, b) => a - b);
console.log("turns/s", (turns / (DUR / 1000)).toFixed(1), "first p50", s[s.length >> 1]?.toFixed(0), "p99", s[Math.floor(s.length * 0.99)]?.toFixed(0));
for (const [name, t] of Object.entries(targets)) {
  const { profile } = await t.send("Profiler.stop");
  const total = profile.samples.length; const self = new Map(); const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map(); for (const sid of profile.samples) counts.set(sid, (counts.get(sid) ?? 0) + 1);
  for (const [id, c] of counts) { const n = byId.get(id); const f = n.callFrame; const key = `${f.functionName || "(anon)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber}`; self.set(key, (self.get(key) ?? 0) + c); }
  const idle = [...self.entries()].filter(([k]) => k.startsWith("(idle)")).reduce((a, [, v]) => a + v, 0);
  console.log(`\n== ${name}: ${total} samples, busy ${(100 * (1 - idle / total)).toFixed(1)}%`);
  for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((100 * v / total).toFixed(1).padStart(5), k);
  t.close();
}
process.exit(0);
