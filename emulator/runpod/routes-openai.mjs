import { randomUUID } from "node:crypto";
import { lastUserText, promptTokenCount, replyTokens } from "./chat-reply.mjs";
import { delayUnlessGone, streamCompletion } from "./chat-stream.mjs";
import { DirectiveError, parseDirectives } from "./directives.mjs";
import { HttpError, readJsonObject, requireApiKey, sendJson } from "./http.mjs";

/** OpenAI's error envelope. */
const openAiError = (message, type = "invalid_request_error", code = null) => ({
  error: { message, type, param: null, code },
});

/**
 * Benchmarks only (`EMULATOR_CHAT_TIMING=1`, set by `bench/ws/run.mjs --trace`): one line per
 * streamed chat request with when it arrived, when its body was read and when its first token
 * was written (epoch ms), so a benchmark can split a turn's wait between the caller and here.
 */
const TIMING = process.env.EMULATOR_CHAT_TIMING === "1";
/** Requests seen per connection (timing lines only). */
const connectionRequests = new WeakMap();

const badRequest = (message) => new HttpError(400, message, { body: openAiError(message) });

/**
 * An OpenAI-compatible chat API under `/openai/v1`, as RunPod's vLLM workers expose it:
 * `POST /chat/completions` (streaming or not) and `GET /models`.
 * @param {ReturnType<import("./router.mjs").createRouter>} router
 * @param {{getConfig: () => Record<string, any>, timers: ReturnType<import("./timers.mjs").createTimers>, chatLog: ReturnType<import("./chat-log.mjs").createChatLog>}} emulator
 */
export function registerOpenAiRoutes(router, { getConfig, timers, chatLog }) {
  const authorize = (req) =>
    requireApiKey(req, getConfig().apiKey, (message) =>
      openAiError(message, "invalid_request_error", "invalid_api_key"),
    );

  router.add("GET", "/openai/v1/models", ({ req, res }) => {
    authorize(req);
    const model = getConfig().chatModel;
    sendJson(res, 200, {
      object: "list",
      data: [{ id: model, object: "model", created: 0, owned_by: "runpod-emulator" }],
    });
  });

  router.add("POST", "/openai/v1/chat/completions", async ({ req, res }) => {
    const arrived = Date.now();
    // Which request of its connection this is (1: a new connection), for the timing line.
    const onConnection = TIMING ? (connectionRequests.get(req.socket) ?? 0) + 1 : 0;
    if (TIMING) connectionRequests.set(req.socket, onConnection);
    authorize(req);
    const body = await readJsonObject(req);
    const bodyRead = Date.now();
    chatLog.record(body);
    const { messages, userText, directives } = readChatRequest(body);
    if (directives.chat === "error") {
      throw new HttpError(500, "emulated upstream failure", {
        body: openAiError("emulated upstream failure ([[emu:chat=error]])", "server_error"),
      });
    }
    const config = getConfig();
    const limit = body.max_completion_tokens ?? body.max_tokens ?? undefined;
    const allTokens = replyTokens(userText, directives.tokens);
    const tokens = limit === undefined ? allTokens : allTokens.slice(0, limit);
    const finishReason = tokens.length < allTokens.length ? "length" : "stop";
    const usage = {
      prompt_tokens: promptTokenCount(messages),
      completion_tokens: tokens.length,
      total_tokens: promptTokenCount(messages) + tokens.length,
    };
    const reply = {
      id: `chatcmpl-${randomUUID().replaceAll("-", "")}`,
      created: Math.floor(Date.now() / 1000),
      model: typeof body.model === "string" && body.model ? body.model : config.chatModel,
      tokens,
      finishReason,
    };

    if (body.stream === true) {
      streamCompletion(res, {
        ...reply,
        usage: body.stream_options?.include_usage === true ? usage : null,
        mode: directives.chat ?? "normal",
        firstTokenMs: config.firstTokenMs,
        tokenDelayMs: config.tokenDelayMs,
        timers,
        ...(TIMING
          ? {
              onFirstWrite: () =>
                console.log(
                  JSON.stringify({
                    msg: "chat timing",
                    text: userText.slice(0, 60),
                    arrived,
                    body: bodyRead,
                    first: Date.now(),
                    port: req.socket.remotePort,
                    on_connection: onConnection,
                  }),
                ),
            }
          : {}),
      });
      return;
    }
    if (directives.chat === "stall") {
      res.flushHeaders();
      return;
    }
    const generationMs = config.firstTokenMs + Math.max(0, tokens.length - 1) * config.tokenDelayMs;
    if (!(await delayUnlessGone(res, generationMs, timers))) return;
    if (directives.chat === "midfail") {
      res.destroy();
      return;
    }
    sendJson(res, 200, {
      id: reply.id,
      object: "chat.completion",
      created: reply.created,
      model: reply.model,
      choices: [
        { index: 0, message: { role: "assistant", content: tokens.join("") }, finish_reason: finishReason },
      ],
      usage,
    });
  });
}

function readChatRequest(body) {
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length === 0)
    throw badRequest("messages must be a non-empty array");
  if (body.stream !== undefined && typeof body.stream !== "boolean")
    throw badRequest("stream must be a boolean");
  for (const key of ["max_tokens", "max_completion_tokens"]) {
    const value = body[key];
    if (value !== undefined && value !== null && !(Number.isInteger(value) && value > 0)) {
      throw badRequest(`${key} must be a positive integer`);
    }
  }
  const raw = lastUserText(messages);
  if (raw === null) throw badRequest("messages must contain a user message with text content");
  try {
    const { text, directives } = parseDirectives(raw);
    return { messages, userText: text, directives };
  } catch (error) {
    if (error instanceof DirectiveError) throw badRequest(error.message);
    throw error;
  }
}
