/** One dispatched Server-Sent Event (WHATWG HTML, "Interpreting an event stream"). */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * An incremental `text/event-stream` parser: feed it bytes exactly as the network delivers
 * them; chunk boundaries may fall anywhere, inside a line, a CRLF pair or a UTF-8 sequence.
 * Lines end in CRLF, LF or CR; `:` lines are comments; several `data:` lines join with `\n`.
 *
 * @example
 * const parser = new SseParser();
 * for await (const chunk of response.body) for (const event of parser.push(chunk)) handle(event.data);
 * for (const event of parser.end()) handle(event.data);
 */
export class SseParser {
  private readonly decoder = new TextDecoder("utf-8");
  private buffer = "";
  /** The previous chunk ended in CR: an LF opening the next one belongs to that line end. */
  private pendingCr = false;
  private started = false;
  private dataLines: string[] = [];
  private eventType = "";
  private lastId: string | undefined;

  /** Parses a chunk; returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    return this.consume(text);
  }

  /** Flushes the decoder at end of stream. A final event without its blank line is still dispatched. */
  end(): SseEvent[] {
    const events = this.consume(this.decoder.decode());
    if (this.buffer !== "") {
      this.processLine(this.buffer, events);
      this.buffer = "";
    }
    this.dispatch(events);
    return events;
  }

  private consume(input: string): SseEvent[] {
    let text = input;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.length > 0) {
      this.pendingCr = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      this.processLine(this.buffer + text.slice(start, i), events);
      this.buffer = "";
      if (ch === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.buffer += text.slice(start);
    return events;
  }

  private processLine(line: string, events: SseEvent[]): void {
    if (line === "") {
      this.dispatch(events);
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.dataLines.push(value);
        break;
      case "event":
        this.eventType = value;
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields carry nothing a one-shot completion stream needs.
        break;
    }
  }

  private dispatch(events: SseEvent[]): void {
    if (this.dataLines.length > 0) {
      events.push({
        event: this.eventType || "message",
        data: this.dataLines.join("\n"),
        ...(this.lastId !== undefined ? { id: this.lastId } : {}),
      });
    }
    this.dataLines = [];
    this.eventType = "";
  }
}
