import { DurableObject } from "cloudflare:workers";
import { countSpend, REPLY_COST } from "../src/abuse/credits";
import { type Config, loadConfig } from "../src/config";
import { openRepository } from "../src/db/repository";
import { reportOpenSockets } from "../src/ops/sockets/report";
import { ActiveReplies } from "../src/realtime/active-replies";
import { TurnRefused } from "../src/realtime/chat-context";
import { ChatMemory } from "../src/realtime/chat-memory";
import { runChatTurn } from "../src/realtime/chat-stream";
import type { ServerEvent } from "../src/realtime/events";
import { type ChatSwipeFrame, type ModelTurnFrame, parseClientFrame } from "../src/realtime/frames";
import { InvalidFrameCounter } from "../src/realtime/invalid-frames";
import { type PictureFrame, runPictureTurn } from "../src/realtime/picture-turn";
import { publishedFrame } from "../src/realtime/published-event";
import {
  SESSION_ID_HEADER,
  SESSION_TICKET_HEADER,
  SESSION_USER_HEADER,
} from "../src/realtime/session-connect";
import { readAttachment, type SocketAttachment } from "../src/realtime/socket-attachment";
import { swipeLastReply } from "../src/realtime/swipe";
import { chargeTurn, StampRequest, type TurnCharge } from "../src/realtime/turn-credits";
import { chatTurnRule, TurnLimiter } from "../src/realtime/turn-limiter";
import { abandonTurn, startTurn } from "../src/realtime/turn-start";
import { turnTiming } from "../src/realtime/turn-timing";

/** Sockets one user may hold open at once (tabs, devices); every event goes to each of them. */
export const MAX_SOCKETS_PER_USER = 100;
/** Replies one user may have streaming at once, across chats (each holds an outbound connection). */
export const MAX_REPLIES_PER_USER = 4;

const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';

function problem(status: number, code: string, title: string, detail: string): Response {
  return new Response(JSON.stringify({ type: "about:blank", title, status, detail, code }), {
    status,
    headers: { "Content-Type": "application/problem+json; charset=utf-8" },
  });
}

function log(level: "warn" | "error", msg: string, fields: Record<string, unknown> = {}) {
  console[level](JSON.stringify({ level, msg, ...fields }));
}

/**
 * One per user (`idFromName(userId)`): holds all of that user's sockets with the WebSocket
 * Hibernation API, streams chat replies to them and fans out generation updates.
 *
 * Idle, it keeps no timers and no in-memory state that matters: each socket carries its
 * user and connect time as an attachment, `ping` is answered by the runtime's auto-response
 * without waking the object, and everything else is in the database. Only a streaming reply
 * keeps the object awake (its fetch and stall timer), and only for as long as it runs.
 */
export class UserSession extends DurableObject<Env> {
  private readonly replies = new ActiveReplies(MAX_REPLIES_PER_USER);
  /** Chat contexts kept in memory and in this object's storage (survives hibernation); the database is the truth. */
  private readonly memory: ChatMemory;
  /** Chat turns per user (API.md): in memory and in this object's storage, so hibernation cannot refill it. */
  private readonly turns: TurnLimiter;
  private readonly invalidFrames = new InvalidFrameCounter();
  /** No frame handled since this instance was made (benchmarks: a turn that woke the object). */
  private fresh = true;
  /**
   * The sockets as `getWebSockets()` last listed them, until one is accepted or closes: a
   * streaming reply sends every delta to all of them, and listing them per delta was a fresh
   * array of fresh handles each time. A socket that closed meanwhile is skipped by its state.
   */
  private socketList: WebSocket[] | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.turns = new TurnLimiter(ctx.storage.kv);
    this.memory = new ChatMemory(ctx.storage.kv);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  /**
   * A WebSocket ticket opens one socket: its nonce is remembered until it expires (one object
   * per user, one request at a time, so no two upgrades can both spend it). No header: a token.
   */
  private spendTicket(header: string | null): boolean {
    if (header === null) return true;
    const [nonce, exp] = header.split(" ");
    const nowS = Date.now() / 1000;
    const spent = this.ctx.storage.kv;
    if (!nonce || spent.get(`ticket:${nonce}`) !== undefined) return false;
    for (const [key, expiry] of spent.list<number>({ prefix: "ticket:" })) {
      if (expiry <= nowS) spent.delete(key);
    }
    spent.put(`ticket:${nonce}`, Number(exp) || nowS + 60);
    return true;
  }

  /** Accepts a WebSocket upgrade the Worker has authenticated (see `session-connect.ts`). */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return problem(426, "invalid_request", "Upgrade Required", "Expected a WebSocket upgrade.");
    }
    const userId = request.headers.get(SESSION_USER_HEADER);
    const ownName = this.ctx.id.name;
    if (!userId || (ownName !== undefined && ownName !== userId)) {
      return problem(403, "forbidden", "Forbidden", "This session belongs to another user.");
    }
    if (!this.spendTicket(request.headers.get(SESSION_TICKET_HEADER))) {
      return problem(401, "unauthorized", "Unauthorized", "This ticket was used already; ask for a new one.");
    }
    if (this.ctx.getWebSockets().length >= MAX_SOCKETS_PER_USER) {
      return problem(
        429,
        "quota_exceeded",
        "Too Many Requests",
        `A user may keep at most ${MAX_SOCKETS_PER_USER} sockets open; close another tab first.`,
      );
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    this.socketList = null;
    const sid = request.headers.get(SESSION_ID_HEADER);
    const attachment: SocketAttachment = {
      user_id: userId,
      connected_at: new Date().toISOString(),
      ...(sid ? { sid } : {}),
    };
    server.serializeAttachment(attachment);
    this.ctx.waitUntil(reportOpenSockets(this.env, userId, "connect", this.openCount()));
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Sends an event to every open socket of this user (RPC; the generation pipeline calls it
   * through `sessionPublisher`). Resolves to the number of sockets it reached.
   */
  publish(event: ServerEvent): number {
    return this.sendToAll(publishedFrame(event));
  }

  /** Open sockets of this user (the nightly socket-count reconciliation asks). */
  openSockets(): number {
    return this.openCount();
  }

  /**
   * Logout or revocation of one session (RPC): closes the sockets that session's tokens
   * opened (1008, policy). Resolves to how many were closed.
   */
  closeSession(sid: string): number {
    return this.closeWhere((attachment) => attachment?.sid === sid, "The session has ended.");
  }

  /** The user was deleted (RPC): closes every socket. */
  closeAll(): number {
    this.memory.forgetAll();
    return this.closeWhere(() => true, "The user was deleted.");
  }

  private closeWhere(match: (attachment: SocketAttachment | null) => boolean, reason: string): number {
    this.socketList = null;
    let closed = 0;
    for (const socket of this.ctx.getWebSockets()) {
      if (!match(readAttachment(socket))) continue;
      try {
        socket.close(1008, reason);
        closed += 1;
      } catch {
        // Already closed.
      }
      this.reportClosed(socket);
    }
    return closed;
  }

  /**
   * A chat changed outside the session (an edit, a delete-from-here, a summary edit over
   * REST): its remembered context is dropped and every socket hears of the change.
   */
  chatChanged(chatId: string, events: ServerEvent[]): number {
    this.memory.forget(chatId);
    let sent = 0;
    for (const event of events) sent = this.sendToAll(JSON.stringify(event));
    return sent;
  }

  /** Whether a reply is streaming in the chat (REST edits wait for it, as turns do). */
  replying(chatId: string): boolean {
    return this.replies.has(chatId);
  }

  /** The chat is gone: stop its reply, if one is streaming, without storing it, and forget it. */
  chatDeleted(chatId: string): void {
    this.replies.stop(chatId, "deleted");
    this.memory.forget(chatId);
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const parsed = parseClientFrame(message);
    if ("problem" in parsed) {
      if (this.invalidFrames.record(socket, Date.now())) {
        log("warn", "socket closed for invalid frames", {});
        socket.close(1008, "Too many invalid frames.");
        return;
      }
      this.sendTo(socket, { type: "error", ...parsed.problem });
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case "ping":
        // Only a ping spelled differently from the auto-response pair gets here.
        this.sendTo(socket, { type: "pong" });
        return;
      case "chat.cancel":
        // Idempotent: a reply that already finished (or another user's chat) has nothing to stop.
        this.replies.stop(frame.chat_id, "cancelled");
        return;
      case "chat.send":
      case "chat.regenerate":
      case "chat.continue":
        this.startReply(socket, frame);
        return;
      case "chat.swipe":
        this.swipe(socket, frame);
        return;
      case "chat.picture":
        this.picture(socket, frame);
        return;
    }
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    this.socketList = null;
    // Completes the closing handshake; a reply in flight carries on and is stored for the other tabs.
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
    this.reportClosed(socket);
  }

  override async webSocketError(socket: WebSocket, error: unknown): Promise<void> {
    this.socketList = null;
    log("warn", "websocket error", { error: String(error) });
    try {
      socket.close(1011, "socket error");
    } catch {
      // Already closed.
    }
    this.reportClosed(socket);
  }

  /** Sockets still open, not counting `except` (one that is closing). */
  private openCount(except?: WebSocket): number {
    return this.ctx.getWebSockets().filter((ws) => ws !== except && ws.readyState === WebSocket.OPEN).length;
  }

  private reportClosed(socket: WebSocket): void {
    const attachment = readAttachment(socket);
    if (!attachment) return;
    this.ctx.waitUntil(reportOpenSockets(this.env, attachment.user_id, "disconnect", this.openCount(socket)));
  }

  /**
   * A chat turn over REST (`POST /chats/:id/pictures`), RPC: takes a token from the same
   * bucket the socket's turns use. Resolves to whether it was allowed.
   */
  takeChatTurn(): { allowed: boolean; retryAfterS: number } {
    const result = this.turns.take(chatTurnRule(loadConfig(this.env).CHAT_TURNS_PER_MIN), Date.now());
    return { allowed: result.allowed, retryAfterS: result.retryAfterS };
  }

  /**
   * A model or picture turn's admission, before anything else (a database query, a slot): a
   * flood of turns, made-up chats included, costs a bucket lookup each and nothing more.
   * Resolves to the config, or sends the refusal (`internal`, `rate_limited`) and gives null.
   */
  private admitTurn(socket: WebSocket, chatId: string): Config | null {
    let config: Config;
    try {
      config = loadConfig(this.env);
    } catch {
      this.sendTo(socket, {
        type: "error",
        code: "internal",
        detail: "The service is misconfigured.",
        chat_id: chatId,
      });
      return null;
    }
    const turn = this.turns.take(chatTurnRule(config.CHAT_TURNS_PER_MIN), Date.now());
    if (turn.allowed) return config;
    this.sendTo(socket, {
      type: "error",
      code: "rate_limited",
      detail: `At most ${config.CHAT_TURNS_PER_MIN} chat turns a minute; try again in ${turn.retryAfterS} s.`,
      chat_id: chatId,
      retry_after_s: turn.retryAfterS,
    });
    return null;
  }

  /** `chat.picture`: a chat turn (limiter, one reply at a time), then `runPictureTurn`. */
  private picture(socket: WebSocket, frame: PictureFrame): void {
    const attachment = readAttachment(socket);
    if (!attachment) {
      socket.close(1011, "session state lost");
      return;
    }
    const refuse = (code: string, detail: string, retryAfterS?: number) =>
      this.sendTo(socket, {
        type: "error",
        code,
        detail,
        chat_id: frame.chat_id,
        ...(retryAfterS === undefined ? {} : { retry_after_s: retryAfterS }),
      });
    const config = this.admitTurn(socket, frame.chat_id);
    if (!config) return;
    if (this.replies.has(frame.chat_id)) {
      refuse("conflict", "A reply is already streaming in this chat; wait for chat.done or cancel it.");
      return;
    }
    const deps = {
      env: this.env,
      config,
      userId: attachment.user_id,
      broadcast: (event: ServerEvent) => this.sendToAll(JSON.stringify(event)),
      chatChanged: (chatId: string, events: ServerEvent[]) => this.chatChanged(chatId, events),
      refuse,
      background: (work: Promise<unknown>) => this.ctx.waitUntil(work),
    };
    const work = runPictureTurn(deps, frame).catch((error: unknown) => {
      log("error", "chat picture failed", { chat_id: frame.chat_id, error: String(error) });
      refuse("internal", "The picture could not be asked for; try again.");
    });
    this.ctx.waitUntil(work);
  }

  /** `chat.swipe`: not a model turn, but it waits for a streaming reply like one. */
  private swipe(socket: WebSocket, frame: ChatSwipeFrame): void {
    const refuse = (code: string, detail: string) =>
      this.sendTo(socket, { type: "error", code, detail, chat_id: frame.chat_id });
    const attachment = readAttachment(socket);
    if (!attachment) {
      socket.close(1011, "session state lost");
      return;
    }
    if (this.replies.has(frame.chat_id)) {
      refuse("conflict", "A reply is already streaming in this chat; wait for chat.done or cancel it.");
      return;
    }
    let config: Config;
    try {
      config = loadConfig(this.env);
    } catch {
      refuse("internal", "The service is misconfigured.");
      return;
    }
    const work = swipeLastReply(() => openRepository(this.env, config), attachment.user_id, frame)
      .then((message) => {
        this.memory.forget(frame.chat_id);
        this.sendToAll(JSON.stringify({ type: "chat.message", message } satisfies ServerEvent));
      })
      .catch((error: unknown) => {
        if (error instanceof TurnRefused) return refuse(error.code, error.detail);
        log("error", "chat swipe failed", { chat_id: frame.chat_id, error: String(error) });
        refuse("internal", "The alternative could not be selected; try again.");
      });
    this.ctx.waitUntil(work);
  }

  private startReply(socket: WebSocket, frame: ModelTurnFrame): void {
    const timing = turnTiming(this.env);
    timing?.note("woken", this.fresh);
    timing?.note("chat", frame.chat_id);
    this.fresh = false;
    const attachment = readAttachment(socket);
    if (!attachment) {
      socket.close(1011, "session state lost");
      return;
    }
    const refuse = (code: string, detail: string) =>
      this.sendTo(socket, { type: "error", code, detail, chat_id: frame.chat_id });
    const config = this.admitTurn(socket, frame.chat_id);
    if (!config) return;
    const slot = this.replies.begin(frame.chat_id);
    if (slot === "busy") {
      refuse("conflict", "A reply is already streaming in this chat; wait for chat.done or cancel it.");
      return;
    }
    if (slot === "limit") {
      refuse("quota_exceeded", `At most ${MAX_REPLIES_PER_USER} replies may stream at once.`);
      return;
    }
    const deps = {
      openRepo: () => openRepository(this.env, config),
      config,
      userId: attachment.user_id,
      broadcast: (event: ServerEvent) => this.sendToAll(JSON.stringify(event)),
      broadcastFrame: (frame: string) => this.sendToAll(frame),
      signal: slot.signal,
      memory: this.memory,
      background: (work: Promise<unknown>) => this.ctx.waitUntil(work),
      finished: () => this.replies.end(frame.chat_id, slot),
      stamp: new StampRequest(),
      timing,
    };
    // Admitted by the limiter and a slot: now the turn's credit (API.md), one guarded
    // statement, and meanwhile its context is read (the model is asked only once it is paid).
    // A context the session kept asks for its stamp before the charge runs: the charge's
    // statement reads it too.
    const start = startTurn(deps, frame);
    let charge: TurnCharge | undefined;
    const reply = chargeTurn(deps.openRepo, config, attachment.user_id, Date.now(), deps.stamp)
      .then((charged) => {
        charge = charged;
        timing?.mark("charged");
        countSpend(this.env, "reply", charged.paid ? "charged" : "refused", attachment.user_id, REPLY_COST);
        if (charged.paid) return runChatTurn(deps, frame, start);
        this.sendTo(socket, {
          type: "error",
          code: "budget_exhausted",
          detail: charged.detail,
          chat_id: frame.chat_id,
          retry_after_s: charged.retryAfterS,
        });
      })
      .catch(async (error: unknown) => {
        // Refused before anything was stored: the credit goes back.
        if (error instanceof TurnRefused) {
          if (charge?.paid) await charge.refund().catch(() => {});
          return refuse(error.code, error.detail);
        }
        log("error", "chat turn failed", { chat_id: frame.chat_id, error: String(error) });
        refuse("internal", "The message could not be handled; try again.");
      })
      .finally(async () => {
        // A turn refused by its charge (or failed) still waits for its reads and closes them.
        await abandonTurn(start);
        this.replies.end(frame.chat_id, slot);
        timing?.flush();
      });
    // The reply outlives this event handler; its fetch keeps the object awake meanwhile.
    this.ctx.waitUntil(reply);
  }

  private sendTo(socket: WebSocket, event: ServerEvent): void {
    try {
      socket.send(JSON.stringify(event));
    } catch {
      // Closing under us; webSocketClose tidies up.
    }
  }

  private sendToAll(frame: string): number {
    this.socketList ??= this.ctx.getWebSockets();
    let sent = 0;
    for (const socket of this.socketList) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      try {
        socket.send(frame);
        sent++;
      } catch {
        // Closing under us; webSocketClose tidies up.
      }
    }
    return sent;
  }
}
