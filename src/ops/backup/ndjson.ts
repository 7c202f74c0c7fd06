function parseLine(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new SyntaxError(`line ${line} is not valid JSON`);
  }
}

/**
 * Parses NDJSON from a byte stream, one value per line, without holding more than one line
 * (plus one network chunk) in memory. Blank lines are skipped; `line` numbers start at 1.
 *
 * @example
 * for await (const { value, line } of ndjsonValues(object.body)) ...
 */
export async function* ndjsonValues(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<{ value: unknown; line: number }> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let pending = "";
  let line = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      pending += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const text = pending.slice(start, newline);
        start = newline + 1;
        line += 1;
        if (text.trim() !== "") yield { value: parseLine(text, line), line };
        newline = pending.indexOf("\n", start);
      }
      pending = pending.slice(start);
      if (done) break;
    }
    if (pending.trim() !== "") {
      line += 1;
      yield { value: parseLine(pending, line), line };
    }
  } finally {
    reader.releaseLock();
  }
}
