import { DirectiveError } from "./directives.mjs";
import { HttpError, readJsonObject, requireApiKey, sendJson } from "./http.mjs";
import { readImageRequest } from "./image-request.mjs";

const RUNSYNC_DEFAULT_WAIT_MS = 90_000;
const RUNSYNC_MIN_WAIT_MS = 1_000;
const RUNSYNC_MAX_WAIT_MS = 300_000;

/**
 * The RunPod serverless queue API under `/v2/{endpointId}`: run, runsync, status, cancel,
 * purge-queue and health.
 * @param {ReturnType<import("./router.mjs").createRouter>} router
 * @param {{jobs: ReturnType<import("./jobs.mjs").createJobStore>, getConfig: () => Record<string, any>}} emulator
 */
export function registerRunpodRoutes(router, { jobs, getConfig }) {
  const authorized = (handler) => (context) => {
    requireApiKey(context.req, getConfig().apiKey);
    return handler(context);
  };

  async function submitFrom({ req, params }, sync) {
    const body = await readJsonObject(req);
    const submission = readSubmission(body);
    let request;
    try {
      request = readImageRequest(submission.input);
    } catch (error) {
      if (error instanceof DirectiveError) throw new HttpError(400, error.message);
      throw error;
    }
    const baseUrl = getConfig().publicUrl ?? `http://${req.headers.host ?? "127.0.0.1"}`;
    return jobs.submit({ endpointId: params.endpointId, ...submission, request, baseUrl, sync });
  }

  router.add(
    "POST",
    "/v2/:endpointId/run",
    authorized(async (context) => {
      const job = await submitFrom(context, false);
      sendJson(context.res, 200, { id: job.id, status: job.status });
    }),
  );

  router.add(
    "POST",
    "/v2/:endpointId/runsync",
    authorized(async (context) => {
      const job = await submitFrom(context, true);
      const wait = Number(context.url.searchParams.get("wait") ?? RUNSYNC_DEFAULT_WAIT_MS);
      const waitMs = Math.min(
        RUNSYNC_MAX_WAIT_MS,
        Math.max(RUNSYNC_MIN_WAIT_MS, wait || RUNSYNC_DEFAULT_WAIT_MS),
      );
      const clientGone = new AbortController();
      context.res.on("close", () => clientGone.abort());
      await jobs.waitForTerminal(job, waitMs, clientGone.signal);
      if (!clientGone.signal.aborted) sendJson(context.res, 200, jobs.statusOf(job));
    }),
  );

  router.add(
    ["GET", "POST"],
    "/v2/:endpointId/status/:id",
    authorized(({ res, params }) => {
      sendJson(res, 200, jobs.statusOf(jobs.get(params.endpointId, params.id)));
    }),
  );

  router.add(
    "POST",
    "/v2/:endpointId/cancel/:id",
    authorized(({ res, params }) => {
      const job = jobs.get(params.endpointId, params.id);
      jobs.cancel(job);
      sendJson(res, 200, { id: job.id, status: job.status });
    }),
  );

  router.add(
    "POST",
    "/v2/:endpointId/purge-queue",
    authorized(({ res, params }) => {
      sendJson(res, 200, { removed: jobs.purgeQueue(params.endpointId), status: "completed" });
    }),
  );

  router.add(
    "GET",
    "/v2/:endpointId/health",
    authorized(({ res, params }) => sendJson(res, 200, jobs.health(params.endpointId))),
  );
}

/** Validates the envelope RunPod accepts: `{input, webhook?, policy?}`. */
function readSubmission(body) {
  const { input, webhook, policy = {} } = body;
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new HttpError(400, "input is required and must be a JSON object");
  }
  if (webhook !== undefined && webhook !== null && !isHttpUrl(webhook)) {
    throw new HttpError(400, "webhook must be an http(s) URL");
  }
  if (policy === null || typeof policy !== "object" || Array.isArray(policy)) {
    throw new HttpError(400, "policy must be an object");
  }
  for (const key of ["executionTimeout", "ttl"]) {
    const value = policy[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new HttpError(400, `policy.${key} must be a positive integer of milliseconds`);
    }
  }
  return {
    input,
    webhook: webhook ?? null,
    policy: { executionTimeout: policy.executionTimeout, ttl: policy.ttl },
  };
}

function isHttpUrl(value) {
  if (typeof value !== "string") return false;
  try {
    const { protocol } = new URL(value);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}
