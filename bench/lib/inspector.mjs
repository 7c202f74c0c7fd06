import WebSocket from "ws";

/**
 * A DevTools protocol session on one inspector target (workerd's or Node's): `send(method,
 * params)` resolves with the answer to that call; `close()` ends the session.
 *
 * @example
 * const { send, close } = await openInspector(target.webSocketDebuggerUrl);
 * await send("Profiler.enable");
 */
export async function openInspector(url, options = {}) {
  const ws = new WebSocket(url, options);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id !== undefined && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}
