/** Why a reply stopped before the model finished. */
export type StopReason = "cancelled" | "deleted";

/** The abort reason carried by a reply's signal. */
export class ReplyStopped extends Error {
  constructor(readonly reason: StopReason) {
    super(`reply ${reason}`);
    this.name = "ReplyStopped";
  }
}

/**
 * The replies a user's session is streaming, one per chat at most, and a cap per user
 * (each holds an outbound connection, and a Worker invocation gets six).
 *
 * @example
 * const slot = replies.begin(chatId);
 * if (slot === "busy") return refuse("conflict");
 * try { await stream(slot.signal); } finally { replies.end(chatId, slot); }
 */
export class ActiveReplies {
  private readonly byChat = new Map<string, AbortController>();

  constructor(private readonly maxPerUser: number) {}

  get size(): number {
    return this.byChat.size;
  }

  has(chatId: string): boolean {
    return this.byChat.has(chatId);
  }

  begin(chatId: string): AbortController | "busy" | "limit" {
    if (this.byChat.has(chatId)) return "busy";
    if (this.byChat.size >= this.maxPerUser) return "limit";
    const controller = new AbortController();
    this.byChat.set(chatId, controller);
    return controller;
  }

  /** Stops the chat's reply; false when none is streaming. */
  stop(chatId: string, reason: StopReason): boolean {
    const controller = this.byChat.get(chatId);
    if (!controller) return false;
    controller.abort(new ReplyStopped(reason));
    return true;
  }

  end(chatId: string, controller: AbortController): void {
    if (this.byChat.get(chatId) === controller) this.byChat.delete(chatId);
  }
}
