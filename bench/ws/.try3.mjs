import WebSocket from "ws";
const base = "http://127.0.0.1:8901/api/v1";
const post = async (p, body, token) => (await fetch(base + p, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })).json();
const N = Number(process.argv[2] ?? 10);
const users = await Promise.all(Array.from({ length: N }, async () => { const u = await post("/auth/guest", {}); const chat = await post("/chats", { character_id: "chr_sample_marrow_vell" }, u.token); return { u, chat }; }));
const socks = await Promise.all(users.map(({ u }) => new Promise((r) => { const ws = new WebSocket(`ws://127.0.0.1:8901/api/v1/ws?token=${u.token}`); ws.on("open", () => r(ws)); })));
function turn(ws, chatId, content) { return new Promise((resolve) => { const t0 = performance.now(); let echo, first; const on = (d) => { const f = JSON.parse(d); if (f.type === "chat.message" && f.message.role === "user") echo = performance.now() - t0; if (f.type === "chat.delta" && first === undefined) first = performance.now() - t0; if (f.type === "chat.done") { ws.off("message", on); resolve({ echo, first }); } }; ws.on("message", on); ws.send(JSON.stringify({ type: "chat.send", chat_id: chatId, content })); }); }
const p = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)].toFixed(0); };
for (const round of ["cold", "warm", "warm2"]) {
  const rs = await Promise.all(socks.map((ws, i) => turn(ws, users[i].chat.id, `${round} ${i} [[emu:tokens=5]]`)));
  console.log(round, "echo p50", p(rs.map(r => r.echo), 0.5), "p99", p(rs.map(r => r.echo), 0.99), "first p50", p(rs.map(r => r.first), 0.5), "p99", p(rs.map(r => r.first), 0.99));
}
const seq = [];
for (let k = 0; k < 30; k++) seq.push(await turn(socks[0], users[0].chat.id, `seq ${k} [[emu:tokens=2]]`));
console.log("sequential first p50", p(seq.map(r => r.first), 0.5), "p99", p(seq.map(r => r.first), 0.99), "echo p50", p(seq.map(r => r.echo), 0.5));
process.exit(0);
