/** How many chat requests the log keeps (the oldest are dropped). */
const MAX_ENTRIES = 200;

/**
 * The chat completion requests the emulator received, newest last, so a test can check what
 * the Worker sent (`max_tokens`, the prompt's size) without a mock.
 */
export function createChatLog() {
  let entries = [];
  return {
    /** @param {Record<string, any>} body the parsed request body */
    record(body) {
      const messages = Array.isArray(body.messages) ? body.messages : [];
      const chars = messages.reduce(
        (sum, m) => sum + (typeof m?.content === "string" ? m.content.length : 0),
        0,
      );
      entries.push({
        at: new Date().toISOString(),
        model: body.model ?? null,
        max_tokens: body.max_tokens ?? null,
        max_completion_tokens: body.max_completion_tokens ?? null,
        stream: body.stream ?? null,
        chars,
        messages,
      });
      if (entries.length > MAX_ENTRIES) entries = entries.slice(-MAX_ENTRIES);
    },
    /** Requests whose messages contain `text` (all when omitted). */
    list(text) {
      if (!text) return entries;
      return entries.filter((e) =>
        e.messages.some((m) => typeof m?.content === "string" && m.content.includes(text)),
      );
    },
    reset() {
      entries = [];
    },
  };
}
