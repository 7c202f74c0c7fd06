const WEBHOOK_TIMEOUT_MS = 10_000;
/** RunPod re-sends a webhook that got no 2xx up to twice. */
const WEBHOOK_RETRIES = 2;
const DUPLICATE_WEBHOOK_GAP_MS = 50;

/**
 * POSTs a job's final status object to its webhook, as RunPod does.
 * @param {string} url
 * @param {object} payload the same object `/status/{id}` returns
 * @param {AbortSignal} shutdown aborted when the emulator closes or resets
 * @returns {Promise<boolean>} whether the receiver answered 2xx
 */
export async function postWebhook(url, payload, shutdown) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "runpod-emulator" },
      body: JSON.stringify(payload),
      signal: AbortSignal.any([shutdown, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Delivers finished jobs' webhooks by the mode in force (directive, injected fault, global knob):
 * once with retries, never, or twice. Keeps `webhooksSent` / `webhookFailures` /
 * `pendingWebhooks` on the job up to date.
 * @param {{timers: ReturnType<import("./timers.mjs").createTimers>, getConfig: () => Record<string, any>,
 *   shutdownSignal: () => AbortSignal}} deps
 */
export function createWebhookSender({ timers, getConfig, shutdownSignal }) {
  function deliver(job, payload, retriesLeft) {
    const signal = shutdownSignal();
    job.pendingWebhooks++;
    job.webhooksSent++;
    postWebhook(job.webhook, payload, signal).then((ok) => {
      job.pendingWebhooks--;
      if (ok || signal.aborted) return;
      job.webhookFailures++;
      if (retriesLeft > 0)
        later(job, getConfig().webhookRetryMs, () => deliver(job, payload, retriesLeft - 1));
    });
  }

  function later(job, ms, action) {
    job.pendingWebhooks++;
    timers.after(ms, () => {
      job.pendingWebhooks--;
      action();
    });
  }

  return {
    /** @param {object} job @param {object} payload the job's final status object */
    send(job, payload) {
      const mode =
        job.fault === "webhookDrop" ? "never" : (job.request.directives.webhook ?? getConfig().webhook);
      if (mode === "never") return;
      deliver(job, payload, WEBHOOK_RETRIES);
      if (mode === "twice") later(job, DUPLICATE_WEBHOOK_GAP_MS, () => deliver(job, payload, 0));
    },
  };
}
