// One simulated user of the mixed scenario: guest sign-in and one WebSocket, then browsing
// characters, chat turns over the socket (waiting for chat.done) and images with the emulator
// (waiting for generation.updated on the same socket), paced by a profile (./profiles.mjs).
// Each user comes from its own address (CF-Connecting-IP), as the per-IP limits expect.
import WebSocket from "ws";
import { PROFILES, seededRandom } from "./profiles.mjs";

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

/** Waits `ms`, or less when the run ends first (`signal`) or the deadline comes. */
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });

/** The steps one user can take; each is timed into `steps` under a stable name. */
function actions(i, { base, steps, signal, ip }) {
  const api = (name, method, path, options = {}) =>
    steps.time(name, "api", () => call(base, ip, method, path, { ...options, signal }));
  return {
    api,
    async signIn() {
      const { token } = await api("POST /auth/guest", "POST", "/auth/guest", {
        body: { display_name: `load user ${i}` },
        expect: 201,
      });
      const socket = await steps.time("WS connect", "flow", () => openSocket(base, ip, token, signal));
      return { token, socket };
    },
    /** One chat turn: chat.send, then wait for this chat's chat.done. */
    chatTurn(socket, chatId, content) {
      return steps.time("chat reply (WS send -> chat.done)", "flow", async () => {
        const answer = socket.next(
          (f) => (f.type === "chat.done" || f.type === "error") && f.chat_id === chatId,
          CHAT_TIMEOUT_MS,
        );
        socket.send({ type: "chat.send", chat_id: chatId, content });
        const frame = await answer;
        if (frame.type === "error") throw new Error(`ws error ${frame.code}`);
      });
    },
    /** POST /generate, then wait for the job's terminal generation.updated on the socket. */
    async image(token, socket, prompt) {
      const job = await api("POST /generate", "POST", "/generate", {
        token,
        body: { prompt, ...SMALL_IMAGE },
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
    },
  };
}

/** The flows a stress round can include besides its HTTP requests (`--stress-flows`). */
export const STRESS_FLOWS = ["chat", "image"];

/**
 * Runs user `i` of `profile` (bench/loadtest/profiles.mjs) until `deadline` (ms) or until
 * `signal` aborts. Steps are timed into `steps` (kind "api" for one HTTP request, "flow" for
 * waits on the model or the GPU); each finished round (stress) or visit to a chat (person)
 * adds one to `progress.iterations`. A stress round runs only the `flows` named (all by
 * default): leaving one out shows what it costs the server per round.
 */
export async function runUser(
  i,
  {
    profile = "person",
    base,
    deadline,
    steps,
    thinkMs = 1000,
    run = 0,
    signal,
    progress,
    flows = STRESS_FLOWS,
  },
) {
  const ip = ipFor(i, run);
  const act = actions(i, { base, steps, signal, ip });
  let socket;
  try {
    const session = await act.signIn();
    socket = session.socket;
    const user = { i, token: session.token, socket, act, deadline, signal, progress };
    if (profile === "stress") await stressRounds(user, thinkMs, new Set(flows));
    else await personVisits(user, PROFILES[profile] ?? PROFILES.person, run);
  } catch {
    // Sign-in or socket failed: counted by its step; this user stops.
  } finally {
    socket?.close();
  }
}

/**
 * The shipped per-user chat limit (API.md: CHAT_TURNS_PER_MIN 20, burst 5): a stress round
 * skips its chat turn when the last one was sent less than this long ago, as a client that
 * honours the limit would, so the limiter's refusals are not counted as the server's errors.
 */
const STRESS_TURN_SPACING_MS = 60_000 / 20;

/** stress: every step back to back (of `flows`, only those named), `thinkMs` between rounds. */
export async function stressRounds({ i, token, socket, act, deadline, signal, progress }, thinkMs, flows) {
  let turn = 0;
  let lastTurnAt = Number.NEGATIVE_INFINITY;
  while (Date.now() < deadline && !signal.aborted) {
    try {
      const list = await act.api("GET /characters", "GET", "/characters?limit=20");
      await act.api("GET /characters/popular", "GET", "/characters/popular");
      const pick = list.items[(i + turn) % list.items.length];
      if (!pick) throw new Error("no characters to pick from");
      await act.api("GET /characters/:id", "GET", `/characters/${pick.id}`);
      const chat = await act.api("POST /chats", "POST", "/chats", {
        token,
        body: { character_id: pick.id },
        expect: 201,
      });
      if (flows.has("chat") && Date.now() - lastTurnAt >= STRESS_TURN_SPACING_MS) {
        lastTurnAt = Date.now();
        await act.chatTurn(socket, chat.id, `Hello from user ${i}, turn ${turn}`);
      }
      if (flows.has("image")) await act.image(token, socket, `load test image ${i}-${turn}`);
      await act.api("GET /chats/:id/messages", "GET", `/chats/${chat.id}/messages`, { token });
      await act.api("GET /generations", "GET", "/generations?limit=20", { token });
      progress.iterations += 1;
    } catch {
      // Counted by the step that failed; carry on with the next round.
    }
    turn += 1;
    await sleep(thinkMs, signal);
  }
}

/**
 * person: browse, read a card, open a chat, a few turns with typing time, sometimes an image;
 * again. Waits are drawn from the profile's ranges with a generator seeded by the user, and
 * no step starts after the deadline.
 */
async function personVisits({ i, token, socket, act, deadline, signal, progress }, profile, run) {
  const random = seededRandom(run * 65_536 + i + 1);
  const pickIn = ({ min, max }) => min + random() * (max - min);
  const open = () => Date.now() < deadline && !signal.aborted;
  const think = async (range) => {
    await sleep(Math.min(pickIn(range), Math.max(0, deadline - Date.now())), signal);
    return open();
  };
  const { think: t } = profile;
  // Arrivals are spread: a visitor lands somewhere in their first browse wait.
  if (!(await think({ min: 0, max: t.browse.max }))) return;
  let visit = 0;
  while (open()) {
    try {
      const list = await act.api("GET /characters", "GET", "/characters?limit=20");
      if (!(await think(t.browse))) break;
      await act.api("GET /characters/popular", "GET", "/characters/popular");
      if (!(await think(t.browse))) break;
      const pick = list.items[Math.floor(random() * list.items.length)];
      if (!pick) throw new Error("no characters to pick from");
      await act.api("GET /characters/:id", "GET", `/characters/${pick.id}`);
      if (!(await think(t.card))) break;
      const chat = await act.api("POST /chats", "POST", "/chats", {
        token,
        body: { character_id: pick.id },
        expect: 201,
      });
      await act.api("GET /chats/:id/messages", "GET", `/chats/${chat.id}/messages`, { token });
      const turns = Math.round(pickIn({ min: profile.turns.min, max: profile.turns.max }));
      let ended = false;
      for (let turn = 0; turn < turns && !ended; turn++) {
        if (!(await think(t.typing))) ended = true;
        else await act.chatTurn(socket, chat.id, `Hello from user ${i}, visit ${visit}, turn ${turn}`);
      }
      if (ended) break;
      if (random() < profile.imageShare) {
        if (!(await think(t.prompt))) break;
        await act.image(token, socket, `load test image ${i}-${visit}`);
        await act.api("GET /generations", "GET", "/generations?limit=20", { token });
        if (!(await think(t.gallery))) break;
      } else if (!(await think(t.browse))) break;
      progress.iterations += 1;
    } catch {
      // Counted by the step that failed; a person tries again after a moment.
      await think(t.browse);
    }
    visit += 1;
  }
}
