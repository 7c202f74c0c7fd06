import { readBody, sendJson } from "./http.mjs";

/** Cloudflare's documented Turnstile test secrets (developers.cloudflare.com/turnstile/troubleshooting/testing/). */
const TEST_SECRETS = {
  "1x0000000000000000000000000000000AA": { success: true },
  "2x0000000000000000000000000000000AA": { success: false, "error-codes": ["invalid-input-response"] },
  "3x0000000000000000000000000000000AA": { success: false, "error-codes": ["timeout-or-duplicate"] },
};

/** Parses siteverify's request: `application/x-www-form-urlencoded` or JSON, as Cloudflare accepts both. */
function parseVerifyBody(req, raw) {
  const text = raw.toString("utf8");
  if ((req.headers["content-type"] ?? "").includes("application/json")) {
    try {
      const body = JSON.parse(text);
      return body && typeof body === "object" ? body : {};
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/**
 * A stand-in for `POST /turnstile/v0/siteverify` that answers Cloudflare's test secrets as the
 * real API documents: `1x…AA` passes any token, `2x…AA` fails it, `3x…AA` reports it spent.
 * Any other secret is `invalid-input-secret`; a missing token, `missing-input-response`.
 * @param {ReturnType<import("./router.mjs").createRouter>} router
 */
export function registerTurnstileRoutes(router) {
  router.add("POST", "/turnstile/v0/siteverify", async ({ req, res }) => {
    const body = parseVerifyBody(req, await readBody(req));
    const secret = typeof body.secret === "string" ? body.secret : "";
    const token = typeof body.response === "string" ? body.response : "";
    const outcome = TEST_SECRETS[secret];
    if (!secret) return sendJson(res, 200, { success: false, "error-codes": ["missing-input-secret"] });
    if (!outcome) return sendJson(res, 200, { success: false, "error-codes": ["invalid-input-secret"] });
    if (!token) return sendJson(res, 200, { success: false, "error-codes": ["missing-input-response"] });
    if (!outcome.success) return sendJson(res, 200, { ...outcome, messages: [] });
    return sendJson(res, 200, {
      success: true,
      challenge_ts: new Date().toISOString(),
      hostname: "localhost",
      "error-codes": [],
      action: "",
      cdata: "",
      metadata: { ephemeral_id: "x:emulator" },
    });
  });
}
