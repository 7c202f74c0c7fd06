// One simulated user of the mixed scenario: guest sign-in, browse characters, open a chat and
// talk over the WebSocket (waiting for chat.done), generate an image with the emulator and
// wait for it (generation.updated on the same socket), read history; again until the end.
// Each user comes from its own address (CF-Connecting-IP), as the per-IP limits expect.
import WebSocket from "ws";

const SMALL_IMAGE = { width: 256, height: 256, steps: 4 };
const CHAT_TIMEOUT_MS = 30_000;
const IMAGE_TIMEOUT_MS = 60_000;
const HTTP_TIMEOUT_MS = 30_000;

/** User `i`'s address in run `run`: 10.<run>.<i / 256>.<i % 256> (65 536 users per run). */
export function ipFor(i, run = 0) {
  return `10.${run & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** A JSON call; anything but `expect` is an error. `signal` ends the run. */
async function call(base, ip, method, path, { token, body, expect = 200, signal }) {
  const headers = { "CF-Connecting-IP": ip };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.any([AbortSignal.timeout(HTTP_TIMEOUT_MS), signal]),
  });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`HTTP ${res.status}`);
  return text ? JSON.parse(text) : null;
}

/** A socket whose frames can be awaited by predicate; closed when `signal` aborts. */
function openSocket(base, ip, token, signal) {
  return new Promise((resolve, reject) => {
    const url = `${base.replace(/^http/, "ws")}/api/v1/ws?token=${encodeURIComponent(token)}`;
    const socket = new WebSocket(url, { headers: { "CF-Connecting-IP": ip } });
    const waiters = new Set();
    const failAll = (error) => {
      for (const waiter of waiters) waiter.reject(error);
      waiters.clear();
    };
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error("timeout"));
    }, HTTP_TIMEOUT_MS);
    const onAbort = () => {
      socket.terminate();
      failAll(new Error("run ended"));
      reject(new Error("run ended"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("message", (data) => {
      let frame;
      try {
        frame = JSON.parse(String(data));
      } catch {
        return;
      }
      for (const waiter of waiters) {
        if (waiter.match(frame)) {
          waiters.delete(waiter);
          waiter.resolve(frame);
        }
      }
    });
    socket.on("close", () => failAll(new Error("socket closed")));
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`upgrade ${res.statusCode}`));
    });
    socket.once("open", () => {
      clearTimeout(timer);
      resolve({
        send: (frame) => socket.send(JSON.stringify(frame)),
        next(match, timeoutMs) {
          return new Promise((res, rej) => {
            const waiter = {
              match,
              resolve: (frame) => {
                clearTimeout(wait);
                res(frame);
              },
              reject: (error) => {
                clearTimeout(wait);
                rej(error);
              },
            };
            const wait = setTimeout(() => {
              waiters.delete(waiter);
              rej(new Error("timeout"));
            }, timeoutMs);
            waiters.add(waiter);
          });
        },
        close() {
          signal.removeEventListener("abort", onAbort);
          socket.close(1000);
        },
      });
    });
  });
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Runs user `i` until `deadline` (ms) or until `signal` aborts. Steps are timed into `steps`
 * (kind "api" for one HTTP request, "flow" for waits on the model or the GPU); each finished
 * iteration adds one to `progress.iterations`.
 */
export async function runUser(i, { base, deadline, steps, thinkMs = 1000, run = 0, signal, progress }) {
  const ip = ipFor(i, run);
  const api = (name, method, path, options = {}) =>
    steps.time(name, "api", () => call(base, ip, method, path, { ...options, signal }));
  let socket;
  try {
    const { token } = await api("POST /auth/guest", "POST", "/auth/guest", {
      body: { display_name: `load user ${i}` },
      expect: 201,
    });
    socket = await steps.time("WS connect", "flow", () => openSocket(base, ip, token, signal));
    let turn = 0;
    while (Date.now() < deadline && !signal.aborted) {
      try {
        const list = await api("GET /characters", "GET", "/characters?limit=20");
        await api("GET /characters/popular", "GET", "/characters/popular");
        const pick = list.items[(i + turn) % list.items.length];
        if (!pick) throw new Error("no characters to pick from");
        await api("GET /characters/:id", "GET", `/characters/${pick.id}`);

        const chat = await api("POST /chats", "POST", "/chats", {
          token,
          body: { character_id: pick.id },
          expect: 201,
        });
        await steps.time("chat reply (WS send -> chat.done)", "flow", async () => {
          const answer = socket.next(
            (f) => (f.type === "chat.done" || f.type === "error") && f.chat_id === chat.id,
            CHAT_TIMEOUT_MS,
          );
          socket.send({ type: "chat.send", chat_id: chat.id, content: `Hello from user ${i}, turn ${turn}` });
          const frame = await answer;
          if (frame.type === "error") throw new Error(`ws error ${frame.code}`);
        });

        const job = await api("POST /generate", "POST", "/generate", {
          token,
          body: { prompt: `load test image ${i}-${turn}`, ...SMALL_IMAGE },
          expect: 202,
        });
        await steps.time("image ready (202 -> succeeded)", "flow", async () => {
          const update = await socket.next(
            (f) =>
              f.type === "generation.updated" &&
              f.job?.id === job.id &&
              ["succeeded", "failed", "cancelled"].includes(f.job.status),
            IMAGE_TIMEOUT_MS,
          );
          if (update.job.status !== "succeeded") throw new Error(`job ${update.job.status}`);
        });

        await api("GET /chats/:id/messages", "GET", `/chats/${chat.id}/messages`, { token });
        await api("GET /generations", "GET", "/generations?limit=20", { token });
        progress.iterations += 1;
      } catch {
        // Counted by the step that failed; carry on with the next iteration.
      }
      turn += 1;
      await sleep(thinkMs, signal);
    }
  } catch {
    // Sign-in or socket failed: counted; this user stops.
  } finally {
    socket?.close();
  }
}
