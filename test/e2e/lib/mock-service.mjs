// A stand-in for the real service, for working on the web client before (or without) the backend:
// serves public/ with the SPA fallback and answers /api/v1 as API.md describes, in memory.
// `node test/e2e/lib/mock-service.mjs` then open http://127.0.0.1:8790 ; or
// `E2E_MOCK=1 npm run test:e2e` to run the e2e scenarios against it.
// It is deliberately small: no persistence, one process, guest tokens are random strings.
import { randomUUID } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { inflateSync } from "node:zlib";
import { WebSocketServer } from "ws";
import { renderImage } from "../../../emulator/runpod/png.mjs";

const root = path.resolve(import.meta.dirname, "../../..");
const TYPES = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** @param {{port?: number}} [options] */
export function startMockService({ port = 8790 } = {}) {
  const users = new Map();
  const characters = new Map();
  const chats = new Map();
  const messages = [];
  const jobs = new Map();
  const images = new Map();
  const idempotency = new Map();
  const sockets = new Set();
  const buckets = new Map();
  let seq = 0;
  const id = (prefix) => `${prefix}_${Date.now().toString(36)}${(seq++).toString(36).padStart(4, "0")}`;
  const now = () => new Date().toISOString();
  const baseUrl = `http://127.0.0.1:${port}`;

  for (const [i, c] of JSON.parse(readFileSync(path.join(root, "seed/characters.json"), "utf8")).entries()) {
    characters.set(c.id, {
      ...pick(c),
      id: c.id,
      owner_id: null,
      is_public: true,
      avatar_url: null,
      chat_count: 100 - i * 5,
      created_at: now(),
      updated_at: now(),
    });
  }

  const problem = (res, status, code, detail, extra = {}, headers = {}) => {
    res.writeHead(status, { "Content-Type": "application/problem+json", ...headers });
    res.end(JSON.stringify({ type: "about:blank", title: code, status, detail, code, ...extra }));
  };
  const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  };
  const broadcast = (userId, frame) => {
    for (const ws of sockets) if (ws.userId === userId && ws.readyState === 1) ws.send(JSON.stringify(frame));
  };
  const userOf = (req) => users.get((req.headers.authorization ?? "").replace(/^Bearer /, ""));
  const limited = (zone) => {
    const [rate, burst] = zone === "strict" ? [5, 10] : [20, 40];
    const b = buckets.get(zone) ?? { tokens: burst, at: Date.now() };
    b.tokens = Math.min(burst, b.tokens + ((Date.now() - b.at) / 1000) * rate);
    b.at = Date.now();
    buckets.set(zone, b);
    if (b.tokens < 1) return Math.max(1, Math.ceil((1 - b.tokens) / rate));
    b.tokens -= 1;
    return 0;
  };
  const page = (items, url, limitDefault = 20) => {
    const limit = Number(url.searchParams.get("limit") ?? limitDefault);
    const start = Number(url.searchParams.get("cursor") ?? 0);
    const slice = items.slice(start, start + limit);
    return { items: slice, next_cursor: start + limit < items.length ? String(start + limit) : null };
  };
  const visible = (c, user) => c.is_public || c.owner_id === user?.id;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, baseUrl);
    const p = url.pathname;
    if (p.startsWith("/images/")) {
      const png = images.get(p.slice(8));
      if (!png) return problem(res, 404, "not_found", "no such image");
      res.writeHead(200, {
        "Content-Type": "image/png",
        "Cache-Control": "public, max-age=31536000, immutable",
      });
      return res.end(png);
    }
    if (!p.startsWith("/api/v1/")) return serveStatic(res, p);
    const route = `${req.method} ${p.slice(7)}`;
    const body = await readBody(req);
    const strict = /^POST \/(generate|auth\/guest|chats|characters(\/import)?)$/.test(route);
    const wait = limited(strict ? "strict" : "api");
    if (wait) return problem(res, 429, "rate_limited", "slow down", {}, { "Retry-After": String(wait) });

    if (route === "GET /health")
      return json(res, 200, { status: "ok", version: "mock", checks: { db: "ok" } });
    if (route === "POST /auth/guest") {
      const token = randomUUID();
      const user = { id: id("usr"), display_name: "Guest", created_at: now() };
      users.set(token, user);
      return json(res, 201, { token, user, expires_at: new Date(Date.now() + 30 * 86400e3).toISOString() });
    }
    const user = userOf(req);
    if (route === "GET /characters/popular") {
      const items = [...characters.values()]
        .filter((c) => c.is_public)
        .sort((a, b) => b.chat_count - a.chat_count);
      return json(res, 200, { items: items.slice(0, Number(url.searchParams.get("limit") ?? 12)) });
    }
    if (route === "GET /characters") {
      const q = (url.searchParams.get("q") ?? "").toLowerCase();
      const tag = url.searchParams.get("tag");
      const items = [...characters.values()]
        .filter((c) => visible(c, user))
        .filter((c) => !q || `${c.name} ${c.description}`.toLowerCase().includes(q))
        .filter((c) => !tag || c.tags.includes(tag))
        .reverse();
      return json(res, 200, page(items, url));
    }
    let m = /^GET \/characters\/([^/]+)(\/card)?$/.exec(route);
    if (m) {
      const c = characters.get(m[1]);
      if (!c || !visible(c, user)) return problem(res, 404, "not_found", "no such character");
      if (!m[2]) return json(res, 200, c);
      return json(res, 200, {
        spec: "chara_card_v2",
        spec_version: "2.0",
        data: {
          name: c.name,
          description: c.description,
          personality: c.personality,
          scenario: c.scenario,
          first_mes: c.greeting,
          system_prompt: c.system_prompt,
          tags: c.tags,
          extensions: {},
        },
      });
    }
    if (!user) return problem(res, 401, "unauthorized", "missing or invalid token");
    if (route === "GET /me") return json(res, 200, { user });
    if (route === "POST /characters/import") {
      let card;
      try {
        card = req.headers["content-type"]?.startsWith("image/png")
          ? cardFromPng(body)
          : JSON.parse(body.toString("utf8"));
      } catch {
        return problem(res, 400, "invalid_request", "not a character card");
      }
      const d = card?.data;
      if (card?.spec !== "chara_card_v2" || !d?.name)
        return problem(res, 400, "invalid_request", "not a Character Card V2", {
          errors: [{ path: "spec", message: "must be chara_card_v2" }],
        });
      const c = {
        ...pick({ ...d, greeting: d.first_mes }),
        id: id("chr"),
        owner_id: user.id,
        is_public: false,
        avatar_url: null,
        chat_count: 0,
        created_at: now(),
        updated_at: now(),
      };
      characters.set(c.id, c);
      return json(res, 201, c);
    }
    if (route === "POST /chats") {
      const c = characters.get(JSON.parse(body || "{}").character_id);
      if (!c || !visible(c, user)) return problem(res, 404, "not_found", "no such character");
      const chat = {
        id: id("cht"),
        character_id: c.id,
        user_id: user.id,
        title: c.name,
        created_at: now(),
        last_message_at: now(),
      };
      chats.set(chat.id, chat);
      c.chat_count += 1;
      if (c.greeting)
        messages.push({
          id: id("msg"),
          chat_id: chat.id,
          role: "assistant",
          content: c.greeting,
          created_at: now(),
        });
      return json(res, 201, strip(chat));
    }
    if (route === "GET /chats") {
      const items = [...chats.values()]
        .filter((c) => c.user_id === user.id)
        .sort((a, b) => b.last_message_at.localeCompare(a.last_message_at));
      return json(res, 200, page(items.map(strip), url));
    }
    m = /^GET \/chats\/([^/]+)$/.exec(route);
    if (m) {
      const chat = chats.get(m[1]);
      if (chat?.user_id !== user.id) return problem(res, 404, "not_found", "no such chat");
      return json(res, 200, strip(chat));
    }
    m = /^GET \/chats\/([^/]+)\/messages$/.exec(route);
    if (m) {
      if (chats.get(m[1])?.user_id !== user.id) return problem(res, 404, "not_found", "no such chat");
      let items = messages.filter((x) => x.chat_id === m[1]).reverse();
      const before = url.searchParams.get("before");
      if (before) items = items.slice(items.findIndex((x) => x.id === before) + 1);
      const limit = Number(url.searchParams.get("limit") ?? 20);
      return json(res, 200, {
        items: items.slice(0, limit),
        next_cursor: items.length > limit ? items[limit - 1].id : null,
      });
    }
    if (route === "POST /generate") {
      const input = JSON.parse(body || "{}");
      const errors = [];
      if (!input.prompt) errors.push({ path: "prompt", message: "is required" });
      for (const k of ["width", "height"])
        if (input[k] !== undefined && (input[k] % 64 || input[k] < 256 || input[k] > 1536))
          errors.push({ path: k, message: "must be a multiple of 64 between 256 and 1536" });
      if (errors.length) return problem(res, 400, "invalid_request", "invalid body", { errors });
      const key = req.headers["idempotency-key"];
      if (key && idempotency.has(`${user.id}:${key}`))
        return json(res, 200, jobs.get(idempotency.get(`${user.id}:${key}`)));
      if (
        [...jobs.values()].filter(
          (j) => j.user_id === user.id && !["succeeded", "failed", "cancelled"].includes(j.status),
        ).length >= 4
      ) {
        return problem(res, 429, "quota_exceeded", "too many active jobs");
      }
      const job = {
        id: id("gen"),
        user_id: user.id,
        status: "queued",
        prompt: input.prompt,
        negative_prompt: input.negative_prompt ?? "",
        params: {
          width: input.width ?? 1024,
          height: input.height ?? 1024,
          steps: input.steps ?? 30,
          seed: input.seed ?? Math.floor(Math.random() * 2 ** 32),
          guidance: input.guidance ?? 7,
        },
        character_id: input.character_id ?? null,
        images: [],
        error: null,
        attempts: 0,
        created_at: now(),
        started_at: null,
        completed_at: null,
      };
      jobs.set(job.id, job);
      if (key) idempotency.set(`${user.id}:${key}`, job.id);
      runJob(job);
      return json(res, 202, strip(job), { Location: `/api/v1/generations/${job.id}` });
    }
    if (route === "GET /generations") {
      const status = url.searchParams.get("status");
      const items = [...jobs.values()]
        .filter((j) => j.user_id === user.id && (!status || j.status === status))
        .reverse();
      return json(res, 200, page(items.map(strip), url));
    }
    m = /^(GET|POST) \/generations\/([^/]+)(\/cancel)?$/.exec(route);
    if (m) {
      const job = jobs.get(m[2]);
      if (job?.user_id !== user.id) return problem(res, 404, "not_found", "no such job");
      if (!m[3]) return json(res, 200, strip(job));
      if (["succeeded", "failed", "cancelled"].includes(job.status))
        return problem(res, 409, "conflict", "the job already finished");
      update(job, { status: "cancelled", completed_at: now() });
      return json(res, 200, strip(job));
    }
    return problem(res, 404, "not_found", `no route ${route}`);
  });

  function update(job, change) {
    Object.assign(job, change);
    broadcast(job.user_id, { type: "generation.updated", job: strip(job) });
  }

  function runJob(job) {
    setTimeout(() => {
      if (job.status !== "queued") return;
      update(job, { status: "running", started_at: now(), attempts: 1 });
      if (job.prompt.includes("[[emu:job=hang]]")) return;
      setTimeout(() => {
        if (job.status !== "running") return;
        if (job.prompt.includes("[[emu:job=fail]]")) {
          return update(job, {
            status: "failed",
            completed_at: now(),
            error: { code: "upstream_error", message: "the GPU worker reported: CUDA out of memory" },
          });
        }
        const key = randomUUID().replaceAll("-", "");
        images.set(
          key,
          renderImage({
            prompt: job.prompt,
            seed: job.params.seed,
            width: job.params.width,
            height: job.params.height,
          }),
        );
        update(job, {
          status: "succeeded",
          completed_at: now(),
          images: [
            {
              url: `${baseUrl}/images/${key}`,
              width: job.params.width,
              height: job.params.height,
              content_type: "image/png",
            },
          ],
        });
      }, 1500);
    }, 400);
  }

  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url, baseUrl);
    const user = users.get(url.searchParams.get("token") ?? "");
    if (url.pathname !== "/api/v1/ws" || !user) {
      socket.end("HTTP/1.1 401 Unauthorized\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.userId = user.id;
      sockets.add(ws);
      ws.on("close", () => sockets.delete(ws));
      ws.on("message", (data) => onFrame(ws, user, JSON.parse(String(data))));
    });
  });

  const streams = new Map();
  function onFrame(ws, user, frame) {
    if (frame.type === "ping") return ws.send(JSON.stringify({ type: "pong" }));
    const chat = chats.get(frame.chat_id);
    if (!chat || chat.user_id !== user.id)
      return ws.send(
        JSON.stringify({ type: "error", code: "not_found", detail: "no such chat", chat_id: frame.chat_id }),
      );
    if (frame.type === "chat.cancel") return streams.get(chat.id)?.();
    if (frame.type !== "chat.send") return;
    const userMessage = {
      id: id("msg"),
      chat_id: chat.id,
      role: "user",
      content: frame.content,
      created_at: now(),
    };
    messages.push(userMessage);
    chat.last_message_at = now();
    broadcast(user.id, { type: "chat.message", message: userMessage, client_id: frame.client_id });
    const reply = { id: id("msg"), chat_id: chat.id, role: "assistant", content: "", created_at: now() };
    const words =
      `*${characters.get(chat.character_id)?.name.split(/[ ,]/)[0]} tilts their head, considering your words.* That's a fair question. "${frame.content.slice(0, 60)}" — I have been waiting for someone to ask me that, truth be told. Sit, and I'll tell you what I know.`.split(
        /(?= )/,
      );
    let i = 0;
    const finish = () => {
      clearInterval(timer);
      streams.delete(chat.id);
      messages.push(reply);
      broadcast(user.id, { type: "chat.done", chat_id: chat.id, message: reply });
    };
    const timer = setInterval(() => {
      if (i >= words.length) return finish();
      reply.content += words[i++];
      broadcast(user.id, { type: "chat.delta", chat_id: chat.id, message_id: reply.id, delta: words[i - 1] });
    }, 40);
    streams.set(chat.id, finish);
  }

  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () =>
      resolve({
        url: baseUrl,
        close: () =>
          new Promise((r) => {
            for (const ws of sockets) ws.terminate();
            server.close(r);
          }),
      }),
    );
  });
}

function serveStatic(res, p) {
  let file = path.join(root, "public", path.normalize(p).replace(/^(\.\.[/\\])+/, ""));
  try {
    if (!statSync(file).isFile()) throw new Error("dir");
  } catch {
    file = path.join(root, "public/index.html");
  }
  res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
  res.end(readFileSync(file));
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

function pick(c) {
  return {
    name: c.name,
    description: c.description ?? "",
    personality: c.personality ?? "",
    scenario: c.scenario ?? "",
    greeting: c.greeting ?? "",
    system_prompt: c.system_prompt ?? "",
    tags: c.tags ?? [],
  };
}

function strip({ user_id: _user, ...rest }) {
  return rest;
}

function cardFromPng(buffer) {
  for (let i = 8; i < buffer.length; ) {
    const length = buffer.readUInt32BE(i);
    const type = buffer.toString("latin1", i + 4, i + 8);
    const data = buffer.subarray(i + 8, i + 8 + length);
    if (type === "tEXt" || type === "zTXt") {
      const nul = data.indexOf(0);
      if (data.toString("latin1", 0, nul) === "chara") {
        const text = type === "tEXt" ? data.subarray(nul + 1) : inflateSync(data.subarray(nul + 2));
        return JSON.parse(Buffer.from(text.toString("latin1"), "base64").toString("utf8"));
      }
    }
    i += 12 + length;
  }
  throw new Error("no chara chunk");
}

if (process.argv[1] === import.meta.filename) {
  const { url } = await startMockService({ port: Number(process.env.PORT ?? 8790) });
  console.log(`mock service at ${url}`);
}
