import { ConfigError, mergeConfig } from "./config.mjs";
import { HttpError, readJsonObject, sendJson } from "./http.mjs";

/**
 * Test and operator controls under `/_emulator`: read or change the global knobs, list jobs for
 * assertions, forget jobs (a restarted worker), reset all state.
 * @param {ReturnType<import("./router.mjs").createRouter>} router
 * @param {{jobs: ReturnType<import("./jobs.mjs").createJobStore>, settings: {current: object, initial: object}, chatLog: ReturnType<import("./chat-log.mjs").createChatLog>}} emulator
 */
export function registerControlRoutes(router, { jobs, settings, chatLog }) {
  router.add("GET", "/_emulator/config", ({ res }) => sendJson(res, 200, settings.current));

  router.add("POST", "/_emulator/config", async ({ req, res }) => {
    const patch = await readJsonObject(req);
    try {
      settings.current = mergeConfig(settings.current, patch);
    } catch (error) {
      if (error instanceof ConfigError) throw new HttpError(400, error.message);
      throw error;
    }
    sendJson(res, 200, settings.current);
  });

  router.add("GET", "/_emulator/jobs", ({ res, url }) => {
    const query = url.searchParams;
    const rows = jobs.list({
      promptContains: query.get("prompt_contains") ?? undefined,
      endpointId: query.get("endpoint") ?? undefined,
      status: query.get("status") ?? undefined,
    });
    sendJson(res, 200, { jobs: rows });
  });

  router.add("GET", "/_emulator/chat-requests", ({ res, url }) => {
    sendJson(res, 200, { requests: chatLog.list(url.searchParams.get("contains") ?? undefined) });
  });

  // As if the GPU worker restarted: the matching jobs are gone and /status answers 404.
  router.add("POST", "/_emulator/forget", ({ res, url }) => {
    sendJson(res, 200, { forgotten: jobs.forget(url.searchParams.get("prompt_contains") ?? "") });
  });

  router.add("POST", "/_emulator/reset", ({ res }) => {
    jobs.reset();
    chatLog.reset();
    settings.current = settings.initial;
    sendJson(res, 200, { ok: true });
  });

  router.add("GET", "/", ({ res }) => sendJson(res, 200, { name: "runpod-emulator", ok: true }));
}
