import { ensureSession, request } from "./api.js";
import { freshToken } from "./auth.js";

/**
 * The one real-time socket (`GET /api/v1/ws?ticket=`, a ticket from `POST /ws/ticket`): reconnects with backoff, keeps frames typed
 * while offline in an outbox, and tells listeners when it came back so they can reload what they
 * may have missed.
 *
 * Events: `status` (detail: "connecting" | "online" | "offline"), `reconnect`, and one event per
 * server frame type (`chat.delta`, `generation.updated`, ...) whose detail is the frame.
 */
export class RealtimeSocket extends EventTarget {
  /** @type {WebSocket | null} */
  #ws = null;
  #outbox = [];
  #attempt = 0;
  #everOpened = false;
  #retryTimer = 0;
  #pingTimer = 0;
  #pongDeadline = 0;
  #stopped = false;
  #listening = false;
  /** Whether the latest socket got as far as `open` (a refused upgrade never does). */
  #lastOpened = false;
  status = "offline";

  start() {
    this.#stopped = false;
    if (!this.#listening) {
      this.#listening = true;
      window.addEventListener("online", () => this.reconnectNow());
      // The browser knows the network is gone before the socket does (that can take a heartbeat).
      window.addEventListener("offline", () => this.#ws?.close(4002, "browser offline"));
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible" && this.status === "offline") this.reconnectNow();
      });
    }
    this.#connect();
  }

  /** Closes the socket and stays offline until `start()` (frames sent meanwhile are queued). */
  stop() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#ws?.close(1000, "bye");
  }

  /** Reconnects at once with the token stored now (after a sign-in or a fresh guest). */
  restart() {
    const old = this.#ws;
    this.#ws = null; // its close event is then ignored, so it schedules no retry of its own
    clearTimeout(this.#retryTimer);
    old?.close(1000, "new session");
    this.#stopped = false;
    this.#attempt = 0;
    this.#connect();
  }

  get online() {
    return this.status === "online";
  }

  /**
   * Sends a frame now, or queues it until the socket is open again.
   * @param {object} frame
   * @returns {boolean} true when it went out immediately
   */
  send(frame) {
    if (this.#ws?.readyState === WebSocket.OPEN) {
      this.#ws.send(JSON.stringify(frame));
      return true;
    }
    this.#outbox.push(frame);
    return false;
  }

  /** Drops queued frames matching `predicate` (e.g. a cancelled draft). */
  unqueue(predicate) {
    this.#outbox = this.#outbox.filter((frame) => !predicate(frame));
  }

  /** Skips the backoff wait, e.g. when the browser says the network is back. */
  reconnectNow() {
    if (
      this.#stopped ||
      this.#ws?.readyState === WebSocket.OPEN ||
      this.#ws?.readyState === WebSocket.CONNECTING
    ) {
      return;
    }
    clearTimeout(this.#retryTimer);
    this.#attempt = 0;
    this.#connect();
  }

  on(type, listener) {
    const handler = (event) => listener(event.detail);
    this.addEventListener(type, handler);
    return () => this.removeEventListener(type, handler);
  }

  #setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }

  async #connect() {
    if (this.#stopped) return;
    this.#setStatus("connecting");
    // A socket that never opened may mean our token expired: the upgrade answers 401, which
    // browsers report only as a close, so check the session before trying again.
    if (this.#attempt > 0 && !this.#lastOpened) {
      await ensureSession().catch(() => {});
    } else {
      // An access token that expired while the socket was up is refreshed before the upgrade.
      await freshToken().catch(() => {});
    }
    if (this.#stopped) return;
    // A single-use 30 s ticket, not the token: URLs end up in logs and the console.
    const pending = { readyState: WebSocket.CONNECTING, closed: false, close: () => (pending.closed = true) };
    this.#ws = pending;
    const ticket = await request("/ws/ticket", { method: "POST" }).then(
      (body) => body?.ticket ?? null,
      () => null,
    );
    if (this.#ws !== pending) return;
    if (!ticket || pending.closed || this.#stopped) {
      this.#onClose(pending);
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws?ticket=${encodeURIComponent(ticket)}`);
    this.#ws = ws;
    this.#lastOpened = false;
    ws.addEventListener("open", () => this.#onOpen(ws));
    ws.addEventListener("message", (event) => this.#onMessage(event));
    ws.addEventListener("close", () => this.#onClose(ws));
  }

  #onOpen(ws) {
    if (ws !== this.#ws) return;
    const wasReconnect = this.#everOpened;
    this.#everOpened = true;
    this.#lastOpened = true;
    this.#attempt = 0;
    this.#setStatus("online");
    const queued = this.#outbox.splice(0);
    for (const frame of queued) ws.send(JSON.stringify(frame));
    this.#startHeartbeat();
    if (wasReconnect) this.dispatchEvent(new CustomEvent("reconnect"));
    this.dispatchEvent(new CustomEvent("flushed", { detail: queued }));
  }

  #onMessage(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame?.type === "pong") {
      this.#pongDeadline = 0;
      return;
    }
    if (typeof frame?.type === "string") this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
  }

  #onClose(ws) {
    if (ws !== this.#ws) return;
    this.#stopHeartbeat();
    this.#ws = null;
    this.#setStatus("offline");
    if (this.#stopped) return;
    // Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... capped at 15 s.
    const delay = Math.min(15_000, 500 * 2 ** this.#attempt) * (0.75 + Math.random() * 0.5);
    this.#attempt += 1;
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  // A socket can die without a close event (sleeping laptop, NAT timeout); a ping that goes
  // unanswered for 10 s means it is gone.
  #startHeartbeat() {
    this.#stopHeartbeat();
    this.#pingTimer = setInterval(() => {
      const ws = this.#ws;
      if (ws?.readyState !== WebSocket.OPEN) return;
      if (this.#pongDeadline && Date.now() > this.#pongDeadline) {
        ws.close(4001, "heartbeat timeout");
        return;
      }
      if (!this.#pongDeadline) this.#pongDeadline = Date.now() + 10_000;
      ws.send(JSON.stringify({ type: "ping" }));
    }, 25_000);
  }

  #stopHeartbeat() {
    clearInterval(this.#pingTimer);
    this.#pongDeadline = 0;
  }
}

export const socket = new RealtimeSocket();

/**
 * Listens to socket events for as long as `element` is on the page: the first event after it
 * has left unsubscribes (views are dropped without ceremony when the route changes).
 * @example
 * whileShown(list, "reconnect", () => reloadIfFailed())
 * @param {Element} element
 * @param {string} type
 * @param {(detail: any) => void} listener
 */
export function whileShown(element, type, listener) {
  const off = socket.on(type, (detail) => {
    if (element.isConnected) listener(detail);
    else off();
  });
  return off;
}
