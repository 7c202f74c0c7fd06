/** API.md: a socket that sends more than 20 invalid frames within 10 s is closed with 1008. */
export const MAX_INVALID_FRAMES = 20;
export const INVALID_FRAME_WINDOW_MS = 10_000;

/**
 * Counts each socket's invalid frames over a sliding window. In memory only: a flood keeps
 * the object awake, and hibernation needs seconds of silence, about the window itself.
 *
 * @example
 * if (invalid.record(socket, Date.now())) socket.close(1008, "too many invalid frames");
 */
export class InvalidFrameCounter {
  private readonly bySocket = new WeakMap<WebSocket, number[]>();

  constructor(
    private readonly max = MAX_INVALID_FRAMES,
    private readonly windowMs = INVALID_FRAME_WINDOW_MS,
  ) {}

  /** Notes one invalid frame; true when the socket is now past the limit. */
  record(socket: WebSocket, nowMs: number): boolean {
    const times = (this.bySocket.get(socket) ?? []).filter((t) => nowMs - t < this.windowMs);
    times.push(nowMs);
    this.bySocket.set(socket, times.length > this.max + 1 ? times.slice(-(this.max + 1)) : times);
    return times.length > this.max;
  }
}
