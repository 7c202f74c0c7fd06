import { createParser, type EventSourceParser } from "eventsource-parser";

/** One dispatched Server-Sent Event (WHATWG HTML, "Interpreting an event stream"). */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * A `text/event-stream` reader over `eventsource-parser`: feed it bytes exactly as the network
 * delivers them; chunk boundaries may fall anywhere, inside a line, a CRLF pair or a UTF-8
 * sequence (the streaming `TextDecoder` holds partial sequences and drops a leading BOM).
 * What it adds to the library: events returned per chunk, the last event id kept across
 * events, and a final event without its blank line still dispatched at end of stream
 * (a model server that closes right after its last `data:` line has still said it).
 *
 * @example
 * const parser = new SseParser();
 * for await (const chunk of response.body) for (const event of parser.push(chunk)) handle(event.data);
 * for (const event of parser.end()) handle(event.data);
 */
export class SseParser {
  private readonly decoder = new TextDecoder("utf-8");
  private readonly parser: EventSourceParser;
  private events: SseEvent[] = [];
  private lastId: string | undefined;

  constructor() {
    this.parser = createParser({
      onEvent: ({ event, data, id }) => {
        if (id !== undefined) this.lastId = id;
        this.events.push({
          event: event ?? "message",
          data,
          ...(this.lastId !== undefined ? { id: this.lastId } : {}),
        });
      },
    });
  }

  /** Parses a chunk; returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    if (text !== "") this.parser.feed(text);
    return this.take();
  }

  /** Flushes the decoder at end of stream; a final event without its blank line is still dispatched. */
  end(): SseEvent[] {
    const rest = this.decoder.decode();
    // Ends the open line (an LF after a pending CR joins it as CRLF) and then the open event.
    this.parser.feed(`${rest}\n\n`);
    this.parser.reset();
    return this.take();
  }

  private take(): SseEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }
}
