import { h, icon, replace } from "../dom.js";
import { describeJobError } from "../errors.js";
import { fullTime, timeAgo } from "../format.js";
import { TERMINAL } from "../jobs.js";

const STATUS_TEXT = {
  queued: "Queued",
  running: "Generating",
  succeeded: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/**
 * A generation job: status, image or failure reason, prompt and settings, and a Cancel button
 * while it is unfinished. Call {@link updateJobCard} with newer data to refresh it in place
 * (in place so keyboard focus on the Cancel button survives).
 * @param {object} job
 * @param {{live?: boolean, onCancel?: (job: object) => void, testid?: string}} [options]
 *   `live` makes the status an aria-live region, for the job the user is waiting on.
 */
export function jobCard(job, { live = false, onCancel, testid = "job-card" } = {}) {
  const card = h("article", { class: "job", "data-testid": testid, "aria-label": `Image: ${job.prompt}` });
  card.append(
    h("div", { class: "job__media" }),
    h(
      "div",
      { class: "job__body" },
      h(
        "p",
        { class: "job__status", "data-testid": "job-status" },
        h("span", {
          class: "job__state",
          "aria-live": live ? "polite" : null,
          "aria-atomic": live ? "true" : null,
        }),
        h("time", { class: "job__time" }),
      ),
      h("p", { class: "job__prompt" }, job.prompt),
      h("p", { class: "job__params" }, paramsText(job)),
      h("p", { class: "job__error", "data-testid": "job-error", hidden: true }),
      h(
        "div",
        { class: "job__actions" },
        h(
          "button",
          {
            type: "button",
            class: "btn btn--ghost btn--sm job__cancel",
            "data-testid": "job-cancel",
            onclick: () => onCancel?.(card.job),
          },
          icon("stop"),
          "Cancel",
        ),
      ),
    ),
  );
  updateJobCard(card, job);
  return card;
}

/** Re-renders the parts of a card that depend on status. */
export function updateJobCard(card, job) {
  const previous = card.job;
  card.job = job;
  card.dataset.jobId = job.id;
  card.dataset.status = job.status;
  const done = TERMINAL.has(job.status);

  // Only the badge is live: the ticking clock next to it must not be read out every second.
  replace(
    card.querySelector(".job__state"),
    h(
      "span",
      { class: `badge badge--${job.status}` },
      done ? null : h("span", { class: "spinner", "aria-hidden": "true" }),
      STATUS_TEXT[job.status] ?? job.status,
    ),
  );
  const clock = card.querySelector(".job__time");
  const since = done ? null : (job.started_at ?? job.created_at);
  clock.dateTime = job.created_at;
  clock.title = `Started ${fullTime(job.created_at)}`;
  if (since) {
    clock.dataset.since = since;
    startClock();
  } else {
    delete clock.dataset.since;
  }
  clock.textContent = since ? elapsed(since) : timeAgo(job.completed_at ?? job.created_at);

  const error = card.querySelector(".job__error");
  error.hidden = job.status !== "failed";
  error.textContent = job.status === "failed" ? `Why: ${describeJobError(job.error)}` : "";

  const cancel = card.querySelector(".job__cancel");
  cancel.hidden = done;

  const media = card.querySelector(".job__media");
  media.style.setProperty("--ratio", `${job.params?.width ?? 1} / ${job.params?.height ?? 1}`);
  const image = job.images?.[0];
  if (job.status === "succeeded" && image) {
    if (media.dataset.src !== image.url) {
      media.dataset.src = image.url;
      replace(
        media,
        h(
          "a",
          {
            href: image.url,
            target: "_blank",
            rel: "noopener",
            class: "job__image-link",
            "aria-label": "Open full-size image in a new tab",
          },
          h("img", {
            src: image.url,
            alt: `Generated image: ${job.prompt}`,
            width: image.width,
            height: image.height,
            loading: "lazy",
            decoding: "async",
            "data-testid": "job-image",
          }),
        ),
      );
    }
  } else if (previous?.status !== job.status || !media.firstChild) {
    media.dataset.src = "";
    replace(
      media,
      h(
        "div",
        { class: `job__placeholder job__placeholder--${job.status}` },
        done
          ? icon(job.status === "failed" ? "alert" : "stop")
          : h("span", { class: "spinner spinner--lg", "aria-hidden": "true" }),
      ),
    );
  }
}

let clockTimer = 0;

/** One shared 1 s tick for every unfinished job's elapsed time; stops when none is left. */
function startClock() {
  if (clockTimer) return;
  clockTimer = setInterval(() => {
    const clocks = document.querySelectorAll(".job__time[data-since]");
    if (clocks.length === 0) {
      clearInterval(clockTimer);
      clockTimer = 0;
    }
    for (const clock of clocks) clock.textContent = elapsed(clock.dataset.since);
  }, 1000);
}

function elapsed(since) {
  const seconds = Math.max(0, Math.round((Date.now() - new Date(since).getTime()) / 1000));
  // "1:05" past a minute: as short as a clock, so the status line never wraps.
  return seconds < 60
    ? `${seconds} s`
    : `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function paramsText(job) {
  const p = job.params ?? {};
  return [
    `${p.width}×${p.height}`,
    `${p.steps} steps`,
    `guidance ${p.guidance}`,
    p.seed !== undefined ? `seed ${p.seed}` : null,
  ]
    .filter(Boolean)
    .join(" · ");
}
