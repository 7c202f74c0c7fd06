import { creditLimit, describeExhausted } from "./credits.js";

/**
 * Turns API failures into sentences a person understands, keyed on the problem+json `code`
 * (see API.md "Conventions"). The raw `detail` is kept for the cases where it is the best words we have.
 */

const FIELD_NAMES = {
  prompt: "Prompt",
  negative_prompt: "Negative prompt",
  width: "Width",
  height: "Height",
  steps: "Steps",
  seed: "Seed",
  guidance: "Guidance",
  character_id: "Character",
  content: "Message",
  name: "Name",
  display_name: "Display name",
};

/** An API call that failed; `message` is already written for people. */
export class ApiError extends Error {
  /**
   * @param {object} init
   * @param {number} init.status HTTP status, 0 when the network failed
   * @param {string} init.code problem+json `code`, or `network`
   * @param {string} [init.detail]
   * @param {{path: string, message: string}[]} [init.errors]
   * @param {number} [init.retryAfter] seconds, from `Retry-After`
   * @param {string} [init.requestId]
   */
  constructor({ status, code, detail, errors = [], retryAfter, requestId }) {
    super(describeProblem({ code, detail, errors, retryAfter, status }));
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = errors;
    this.retryAfter = retryAfter;
    this.requestId = requestId;
  }
}

/**
 * @example
 * describeProblem({ code: "rate_limited", retryAfter: 3 }) // "Too many requests — try again in 3 s."
 * @param {{code?: string, detail?: string, errors?: {path: string, message: string}[], retryAfter?: number, status?: number}} problem
 * @returns {string}
 */
export function describeProblem({ code, detail, errors = [], retryAfter, status } = {}) {
  switch (code) {
    case "rate_limited": {
      const wait = Math.max(1, Math.ceil(Number(retryAfter) || 1));
      return `Too many requests — try again in ${wait} s.`;
    }
    case "budget_exhausted":
      return describeExhausted(creditLimit(), Number(retryAfter) || 0);
    case "challenge_failed":
      return "We couldn't confirm you're a person. Reload the page to try again.";
    case "limit_reached":
      return detail
        ? `You've reached a limit: ${detail}`
        : "You've reached the most you can keep; delete something first.";
    case "quota_exceeded": {
      // The server's sentence names its limit ("At most 4 generations ..."); say it in our words.
      const limit = /\b(\d+)\b/.exec(detail ?? "")?.[1];
      return limit
        ? `You can have at most ${limit} images in progress at once. Wait for one to finish, or cancel one, then try again.`
        : "You already have the most images in progress that you're allowed. Wait for one to finish, or cancel one, then try again.";
    }
    case "payload_too_large":
      return "That's too big to send. Character cards can be at most 8 MB; messages at most 4,000 characters.";
    case "invalid_request":
      return errors.length
        ? `Please fix: ${errors.map((e) => `${fieldName(e.path)} — ${e.message}`).join("; ")}.`
        : `That request wasn't accepted${detail ? `: ${detail}` : "."}`;
    case "unauthorized":
      return "Your session has expired. Reload the page to start a new one.";
    case "forbidden":
      return "You don't have permission to do that.";
    case "not_found":
      return "We couldn't find that. It may have been deleted, or it belongs to someone else.";
    case "conflict":
      return detail
        ? `That can't be done right now: ${detail}`
        : "That can't be done right now — it changed in the meantime.";
    case "upstream_unavailable":
      return "The AI service is busy or unreachable right now. Please try again in a moment.";
    case "internal":
      return "Something went wrong on our side. Please try again.";
    case "unsupported_media_type":
      return "The server doesn't accept that kind of data. Please reload the page and try again.";
    case "network":
      return "Can't reach the server. Check your connection and try again.";
    default:
      if (detail) return detail;
      return status ? `The request failed (HTTP ${status}).` : "Something went wrong. Please try again.";
  }
}

/**
 * Words for a failed generation's `error` (`{code, message}`), e.g. a timeout.
 * @param {{code?: string, message?: string} | null} error
 */
export function describeJobError(error) {
  if (!error) return "The image could not be generated.";
  const known = {
    timeout: "It took longer than 3 minutes, so it was stopped.",
    upstream_failed: "The image service couldn't make this picture.",
    upstream_rejected: "The image service turned the request down.",
    upstream_lost: "The image service lost track of the job.",
    upstream_cancelled: "The image service cancelled the job.",
    upstream_unavailable: "The image service was unreachable.",
    upstream_error: "The image service reported an error.",
    bad_output: "The image service sent back something that isn't a usable image.",
    enqueue_failed: "We couldn't queue the job.",
    dead_lettered: "We tried several times and couldn't process it.",
    cancelled: "It was cancelled.",
    internal: "Something went wrong on our side.",
  };
  const lead = known[error.code] ?? `${humanize(error.code ?? "error")}.`;
  const message = error.message?.trim();
  return message && message !== lead
    ? `${lead} ${capitalize(message)}${/[.!?]$/.test(message) ? "" : "."}`
    : lead;
}

/** Words for an `error` frame from the real-time socket. */
export function describeSocketError(frame) {
  if (frame.code === "invalid_request" && frame.detail)
    return `That message wasn't accepted: ${frame.detail}`;
  if (frame.code === "upstream_unavailable" || frame.code === "upstream_error") {
    return "The character couldn't answer just now — the AI service is unavailable. Try sending again.";
  }
  if (frame.code === "conflict") return frame.detail || "A reply is already being written in this chat.";
  return describeProblem({ code: frame.code, detail: frame.detail, retryAfter: frame.retry_after_s });
}

function fieldName(path) {
  const key = String(path ?? "").replace(/^(body|query|params)\./, "");
  if (key === "(root)") return "Request";
  return FIELD_NAMES[key] ?? (humanize(key) || "Request");
}

function humanize(code) {
  return capitalize(
    String(code)
      .replace(/[_.-]+/g, " ")
      .trim(),
  );
}

function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
