import { request } from "../api.js";
import { h, icon, replace } from "../dom.js";
import { describeJobError } from "../errors.js";
import { cancel, latest, subscribe, TERMINAL, track } from "../jobs.js";
import { notifyError } from "../notify.js";

const STATUS_TEXT = {
  queued: "Waiting for a free painter…",
  running: "Painting the picture…",
  succeeded: "Delivering…",
  cancelled: "Picture cancelled.",
};
// A finished picture whose message hasn't come (e.g. it went to a socket that dropped): fetch it.
const DELIVERY_GRACE_MS = 4000;

/**
 * "Send me a picture": asks the character for a picture of itself in the scene (an optional
 * prompt steers it). The job (`POST /chats/:id/pictures`) shows in the thread at once as a
 * placeholder following `generation.updated`; the stored message with the image (or, for a failed or
 * cancelled job, the empty reply saying so) replaces it.
 * Jobs of this chat started elsewhere (another tab, the `chat.picture` frame) show the same way.
 * @param {{chatId: string, log: ReturnType<import("./message-log.js").messageLog>}} options
 */
export function pictureButton({ chatId, log }) {
  const chatPath = `/chats/${encodeURIComponent(chatId)}`;
  /** @type {Map<string, HTMLElement>} placeholders by job id */
  const placeholders = new Map();
  /** Jobs whose picture message is already in the thread. */
  const delivered = new Set();

  const element = h(
    "button",
    {
      type: "button",
      class: "btn btn--secondary btn--sm",
      "data-testid": "picture-button",
      title: "Ask the character for a picture of the scene",
      onclick: ask,
    },
    icon("image"),
    h("span", { class: "chat-head__action-text" }, "Picture"),
  );

  function ask() {
    const prompt = h("textarea", {
      id: "picture-prompt",
      class: "input",
      rows: 3,
      maxlength: 1000,
      placeholder: "Optional: what should be in it? Without a prompt, the current scene.",
      "data-testid": "picture-prompt",
    });
    const dialog = h(
      "dialog",
      { class: "dialog", "data-testid": "picture-dialog", "aria-labelledby": "picture-title" },
      h(
        "form",
        {
          method: "dialog",
          onsubmit: (event) => {
            event.preventDefault();
            dialog.close();
            requestPicture(prompt.value.trim());
          },
        },
        h("h2", { id: "picture-title", class: "dialog__title" }, "Send me a picture"),
        h("label", { for: "picture-prompt", class: "field__label" }, "What you'd like to see"),
        prompt,
        h("p", { class: "field__hint" }, "Made from how the character looks. It costs what an image costs."),
        h(
          "div",
          { class: "dialog__actions" },
          h("button", { type: "button", class: "btn btn--ghost", onclick: () => dialog.close() }, "Cancel"),
          h(
            "button",
            { type: "submit", class: "btn btn--primary", "data-testid": "picture-send" },
            icon("sparkles"),
            "Send me a picture",
          ),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      element.focus({ preventScroll: true });
    });
    document.body.append(dialog);
    dialog.showModal();
    prompt.focus();
  }

  async function requestPicture(prompt) {
    element.classList.add("is-busy");
    try {
      const job = await request(`${chatPath}/pictures`, { method: "POST", body: prompt ? { prompt } : {} });
      show(track(job));
    } catch (error) {
      notifyError(error);
    } finally {
      element.classList.remove("is-busy");
    }
  }

  function show(job) {
    if (job.chat_id && job.chat_id !== chatId) return;
    if (delivered.has(job.id)) return;
    let el = placeholders.get(job.id);
    if (!el) {
      if (TERMINAL.has(job.status)) return;
      const { width = 1024, height = 1024 } = job.params ?? {};
      el = h(
        "li",
        { class: "msg msg--assistant msg--picture", "data-testid": "picture-pending", "data-job-id": job.id },
        h("span", { class: "msg__avatar" }),
        h(
          "div",
          { class: "bubble bubble--assistant" },
          h(
            "div",
            { class: "picture-pending", style: `aspect-ratio: ${width} / ${height}` },
            h("span", { class: "spinner" }),
          ),
          h("div", { class: "msg__meta" }),
        ),
      );
      placeholders.set(job.id, el);
      log.appendNote(el);
    }
    el.dataset.status = job.status;
    const meta = el.querySelector(".msg__meta");
    if (job.status === "failed" || job.status === "cancelled") {
      // The server stores a failed/cancelled reply in the chat; it takes this placeholder's place.
      el.querySelector(".spinner")?.remove();
      replace(
        meta,
        job.status === "failed"
          ? h("span", { class: "msg__failed" }, icon("alert"), `No picture: ${describeJobError(job.error)}`)
          : STATUS_TEXT.cancelled,
      );
      setTimeout(() => fetchDelivered(job.id), DELIVERY_GRACE_MS);
    } else {
      replace(
        meta,
        STATUS_TEXT[job.status] ?? job.status,
        job.status === "succeeded"
          ? null
          : [
              " · ",
              h(
                "button",
                {
                  type: "button",
                  class: "link-btn",
                  "data-testid": "picture-cancel",
                  onclick: () => cancel(job.id).catch(notifyError),
                },
                "Cancel",
              ),
            ],
      );
      if (job.status === "succeeded") setTimeout(() => fetchDelivered(job.id), DELIVERY_GRACE_MS);
    }
  }

  async function fetchDelivered(jobId) {
    if (delivered.has(jobId) || !placeholders.get(jobId)?.isConnected) return;
    try {
      const { items } = await request(`${chatPath}/messages`, { query: { limit: 10 } });
      for (const message of [...items].reverse()) {
        if (message.attachments?.length || isPictureOutcome(message)) {
          log.upsert(message);
          onMessage(message);
        }
      }
    } catch {
      // The next reload shows it anyway.
    }
    // Whatever the server kept, this job's placeholder has said its last word.
    if (TERMINAL.has(latest(jobId)?.status) && latest(jobId)?.status !== "succeeded") drop(jobId);
  }

  function drop(jobId) {
    delivered.add(jobId);
    placeholders.get(jobId)?.remove();
    placeholders.delete(jobId);
  }

  /** A picture that failed or was cancelled is stored as an empty reply with that status. */
  function isPictureOutcome(message) {
    return (
      message.role === "assistant" &&
      (message.status === "failed" || message.status === "cancelled") &&
      !message.content &&
      !message.attachments?.length
    );
  }

  /** A stored message arrived: a picture it carries (or its failure) replaces its placeholder. */
  function onMessage(message) {
    for (const attachment of message.attachments ?? []) {
      if (attachment.job_id) drop(attachment.job_id);
    }
    if (!isPictureOutcome(message)) return;
    // It names no job: it ends the oldest placeholder whose job ended that way.
    for (const [jobId, el] of placeholders) {
      if (el.dataset.status === message.status) {
        drop(jobId);
        return;
      }
    }
  }

  const unsubscribe = subscribe((job) => {
    // The view is gone (views are dropped without ceremony): stop listening.
    if (!element.isConnected) {
      unsubscribe();
      return;
    }
    if (job.chat_id === chatId || placeholders.has(job.id)) show(job);
  });

  // Pictures still being made when the chat was opened (or reloaded) show as placeholders too.
  request("/generations", { query: { limit: 20 } })
    .then(({ items }) => {
      for (const job of items ?? [])
        if (job.chat_id === chatId && !TERMINAL.has(job.status)) show(track(job));
    })
    .catch(() => {});

  return { element, onMessage };
}
