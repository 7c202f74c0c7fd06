/** Tokens sent before a `chat=midfail` stream drops its connection. */
const MIDFAIL_AFTER_TOKENS = 3;

/**
 * Writes an OpenAI chat completion as Server-Sent Events, one chunk per token at the configured
 * pace, then a `finish_reason` chunk, an optional usage chunk and `data: [DONE]`.
 * `mode` "midfail" drops the connection after a few tokens; "stall" sends headers and nothing more.
 * @param {import("node:http").ServerResponse} res
 * @param {{id: string, created: number, model: string, tokens: string[], finishReason: string,
 *   usage: object | null, mode: "normal" | "midfail" | "stall", firstTokenMs: number, tokenDelayMs: number,
 *   timers: ReturnType<import("./timers.mjs").createTimers>}} reply
 */
export function streamCompletion(res, reply) {
  const {
    id,
    created,
    model,
    tokens,
    finishReason,
    usage,
    mode,
    firstTokenMs,
    tokenDelayMs,
    timers,
    onFirstWrite,
  } = reply;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  res.flushHeaders();
  if (mode === "stall") return;

  const chunk = (delta, finish) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const send = (data) => res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  const failAfter =
    mode === "midfail" ? Math.max(1, Math.min(MIDFAIL_AFTER_TOKENS, tokens.length - 1)) : Infinity;

  let pending = null;
  let sent = 0;
  res.on("close", () => timers.cancel(pending));

  const next = () => {
    pending = null;
    if (res.destroyed) return;
    if (sent === failAfter) {
      res.destroy();
      return;
    }
    if (sent < tokens.length) {
      send(chunk(sent === 0 ? { role: "assistant", content: tokens[0] } : { content: tokens[sent] }, null));
      if (sent === 0) onFirstWrite?.();
      sent++;
      pending = timers.after(tokenDelayMs, next);
      return;
    }
    send(chunk({}, finishReason));
    if (usage) send({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
    send("[DONE]");
    res.end();
  };
  pending = timers.after(firstTokenMs, next);
}

/** Resolves after `ms`, or early (returning false) when the client goes away. */
export function delayUnlessGone(res, ms, timers) {
  return new Promise((resolve) => {
    const handle = timers.after(ms, () => {
      res.off("close", gone);
      resolve(true);
    });
    const gone = () => {
      timers.cancel(handle);
      resolve(false);
    };
    res.once("close", gone);
  });
}
