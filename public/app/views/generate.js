import { request } from "../api.js";
import { generateForm } from "../components/generate-form.js";
import { jobCard, updateJobCard } from "../components/job-card.js";
import { h, icon, replace } from "../dom.js";
import { cancel, subscribe, track } from "../jobs.js";
import { notifyError } from "../notify.js";
import { whileShown } from "../ws.js";

const RECENT_COUNT = 6;

/**
 * `/generate` — the image form and, beside it, the job being watched (live) and the latest ones.
 */
export function generateView(_params, query) {
  const form = generateForm({ query, onSubmit: submitJob });
  const current = h("div", { class: "current-job", "data-testid": "current-job" });
  const recent = h("ul", {
    class: "job-grid job-grid--compact",
    "data-testid": "recent-jobs",
    "aria-busy": "true",
  });
  const cards = new Map();

  const element = h(
    "div",
    { class: "page page--generate" },
    h(
      "header",
      { class: "page__head" },
      h(
        "div",
        {},
        h("h1", {}, "Create an image"),
        h("p", { class: "lede" }, "Describe it, pick a size, and watch it come to life."),
      ),
    ),
    h(
      "div",
      { class: "split" },
      form.element,
      h(
        "section",
        { class: "results", "aria-labelledby": "results-heading" },
        h("h2", { id: "results-heading", class: "section__title" }, "Your latest"),
        current,
        recent,
        h(
          "a",
          { class: "btn btn--ghost", href: "/gallery", "data-testid": "to-gallery" },
          "Open the gallery",
          icon("arrow"),
        ),
      ),
    ),
  );

  const unsubscribe = subscribe((job) => {
    const card = cards.get(job.id);
    if (card) updateJobCard(card, job);
  });

  let recentFailed = false;
  whileShown(element, "reconnect", () => {
    if (recentFailed) loadRecent();
  });
  loadRecent();

  async function loadRecent() {
    recent.setAttribute("aria-busy", "true");
    try {
      const { items } = await request("/generations", { query: { limit: RECENT_COUNT } });
      for (const job of items) {
        if (cards.has(job.id)) continue;
        recent.append(h("li", {}, cardFor(track(job))));
      }
      if (items.length === 0 && !current.firstChild) {
        recent.append(
          h(
            "li",
            { class: "empty empty--art" },
            icon("image"),
            "Nothing here yet — your images will appear here.",
          ),
        );
      }
      recentFailed = false;
    } catch (error) {
      recentFailed = true;
      notifyError(error);
    } finally {
      recent.setAttribute("aria-busy", "false");
    }
  }

  function cardFor(job, live = false) {
    const card = jobCard(job, {
      live,
      onCancel: onCancelJob,
      testid: live ? "current-job-card" : "job-card",
    });
    if (live) card.dataset.live = "true";
    cards.set(job.id, card);
    return card;
  }

  /** Each submit carries a fresh Idempotency-Key: a retried request never makes a second job. */
  async function submitJob(body) {
    const job = await request("/generate", {
      method: "POST",
      body,
      headers: { "Idempotency-Key": crypto.randomUUID() },
    });
    // The socket may already have told the tracker more (e.g. `running`) than this reply says.
    const known = track(job);
    const previous = current.firstElementChild;
    if (previous) {
      previous.removeAttribute("data-live");
      previous.querySelector(".job__state")?.removeAttribute("aria-live");
      previous.dataset.testid = "job-card";
      recent.prepend(h("li", {}, previous));
    }
    recent.querySelector(".empty")?.remove();
    replace(current, cardFor(known, true));
  }

  async function onCancelJob(job) {
    try {
      await cancel(job.id);
    } catch (error) {
      notifyError(error);
    }
  }

  /** Checks what the browser can check, in the same words the API would use. */
  return { element, title: "Create", destroy: unsubscribe };
}
