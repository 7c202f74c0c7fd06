import WebSocket from "ws";
const base = "http://127.0.0.1:8901/api/v1";
const post = async (p, body, token) => (await fetch(base + p, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })).json();
const N = Number(process.argv[2] ?? 50);
const users = await Promise.all(Array.from({ length: N }, async () => { const u = await post("/auth/guest", {}); const chat = await post("/chats", { character_id: "chr_sample_marrow_vell" }, u.token); return { u, chat }; }));
const socks = await Promise.all(users.map(({ u }) => new Promise((r) => { const ws = new WebSocket(`ws://127.0.0.1:8901/api/v1/ws?token=${u.token}`); ws.on("open", () => r(ws)); ws.on("error", (e) => console.log("err", e.message)); })));
console.log("open", socks.length);
const t0 = Date.now();
let done = 0; const counts = {}; const echo = []; const firsts = [];
socks.forEach((ws, i) => {
  ws.on("message", (d) => { const f = JSON.parse(d); counts[f.type] = (counts[f.type] ?? 0) + 1; if (f.type === "error") console.log("error", f); if (f.type === "chat.message" && f.message.role === "user") echo.push(Date.now() - t0); if (f.type === "chat.delta" && !firsts[i]) firsts[i] = Date.now() - t0; if (f.type === "chat.done") { done++; if (done === N) { echo.sort((a,b)=>a-b); const fs = firsts.filter(Boolean).sort((a,b)=>a-b); console.log("all done", Date.now() - t0, "echo p50", echo[N>>1], "max", echo[N-1], "first p50", fs[N>>1], "max", fs[N-1]); process.exit(0); } } });
  ws.on("close", (c) => console.log("close", i, c));
  ws.send(JSON.stringify({ type: "chat.send", chat_id: users[i].chat.id, content: `hi ${i} [[emu:tokens=20]]` }));
});
setInterval(() => console.log(Date.now() - t0, done, JSON.stringify(counts)), 2000);
setTimeout(() => { console.log("timeout", counts); process.exit(1); }, 30000);
