/** Small HTTP helpers shared by every route module: errors, JSON bodies, bearer auth. */

const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024; // RunPod's /run payload limit

/** An expected failure, rendered once by the router as a JSON response. */
export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {{body?: unknown, headers?: Record<string, string>}} [options] body defaults to `{error: message}`
   */
  constructor(status, message, options = {}) {
    super(message);
    this.status = status;
    this.body = options.body ?? { error: message };
    this.headers = options.headers ?? {};
  }
}

/**
 * @param {import("node:http").ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export function sendJson(res, status, body, headers = {}) {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": payload.length,
    ...headers,
  });
  res.end(payload);
}

/**
 * Reads the whole request body, refusing more than `limit` bytes.
 * @param {import("node:http").IncomingMessage} req
 * @returns {Promise<Buffer>}
 */
export async function readBody(req, limit = DEFAULT_BODY_LIMIT) {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
  const parts = [];
  let size = 0;
  for await (const part of req) {
    size += part.length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/**
 * Parses a JSON object body; an empty body counts as `{}` when `allowEmpty`.
 * @param {import("node:http").IncomingMessage} req
 * @param {{allowEmpty?: boolean, limit?: number}} [options]
 * @returns {Promise<Record<string, any>>}
 */
export async function readJsonObject(req, { allowEmpty = false, limit } = {}) {
  const raw = await readBody(req, limit);
  if (raw.length === 0) {
    if (allowEmpty) return {};
    throw new HttpError(400, "request body must be a JSON object");
  }
  let parsed;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new HttpError(400, "request body must be a JSON object");
  }
  return parsed;
}

/**
 * Accepts `Authorization: Bearer <key>` (and the bare key, as RunPod does); when the emulator
 * has an `apiKey` configured only that key passes.
 * @param {import("node:http").IncomingMessage} req
 * @param {string | null} expectedKey
 * @param {(message: string) => unknown} [bodyFor] shapes the 401 body for the caller's API
 */
export function requireApiKey(req, expectedKey, bodyFor) {
  const header = (req.headers.authorization ?? "").trim();
  const key = /^bearer$/i.test(header) ? "" : header.replace(/^Bearer\s+/i, "").trim();
  const problem = !key
    ? "missing API key"
    : expectedKey !== null && key !== expectedKey
      ? "invalid API key"
      : null;
  if (problem) throw new HttpError(401, problem, { body: bodyFor?.(problem) });
}
