import { createChatLog } from "./chat-log.mjs";
import { defaultConfig, mergeConfig } from "./config.mjs";
import { createJobStore } from "./jobs.mjs";
import { createRouter } from "./router.mjs";
import { registerControlRoutes } from "./routes-control.mjs";
import { registerFileRoutes } from "./routes-files.mjs";
import { registerOpenAiRoutes } from "./routes-openai.mjs";
import { registerRunpodRoutes } from "./routes-runpod.mjs";
import { registerTestFileRoutes } from "./routes-test-files.mjs";
import { registerTurnstileRoutes } from "./routes-turnstile.mjs";
import { createTimers } from "./timers.mjs";

/**
 * Wires the emulator together: one settings holder, one job store, one router.
 * @param {Record<string, unknown>} knobs initial values of config knobs (see config.mjs)
 * @returns {{handle: import("node:http").RequestListener, close: () => void}}
 */
export function createApp(knobs) {
  const initial = mergeConfig(defaultConfig(), knobs);
  const settings = { current: initial, initial };
  const getConfig = () => settings.current;
  const jobs = createJobStore({ getConfig });
  const chatTimers = createTimers();
  const router = createRouter();
  const chatLog = createChatLog();

  registerRunpodRoutes(router, { jobs, getConfig });
  registerOpenAiRoutes(router, { getConfig, timers: chatTimers, chatLog });
  registerFileRoutes(router, { jobs });
  registerTestFileRoutes(router);
  registerTurnstileRoutes(router);
  registerControlRoutes(router, { jobs, settings, chatLog });

  return {
    handle: router.handle,
    close() {
      jobs.close();
      chatTimers.cancelAll();
    },
  };
}
