import { request } from "../api.js";
import { jobCard, updateJobCard } from "../components/job-card.js";
import { h, icon, replace } from "../dom.js";
import { cancel, subscribe, track } from "../jobs.js";
import { notifyError } from "../notify.js";

const PAGE_SIZE = 24;
const FILTERS = [
  ["", "All"],
  ["succeeded", "Done"],
  ["running", "Generating"],
  ["queued", "Queued"],
  ["failed", "Failed"],
  ["cancelled", "Cancelled"],
];

/** `/gallery` — every generation job of the user, newest first, live while unfinished. */
export function galleryView(_params, query) {
  const state = { status: query.get("status") ?? "", cursor: null, loading: null };
  const cards = new Map();
  const grid = h("ul", { class: "job-grid", "data-testid": "gallery-list", "aria-busy": "true" });
  const more = h(
    "button",
    {
      type: "button",
      class: "btn btn--secondary load-more",
      "data-testid": "load-more-gallery",
      hidden: true,
      onclick: () => load(true),
    },
    "Load more",
  );
  const filter = h(
    "select",
    {
      id: "gallery-status",
      class: "input input--inline",
      "data-testid": "gallery-status",
      onchange: () => {
        state.status = filter.value;
        history.replaceState(null, "", state.status ? `/gallery?status=${state.status}` : "/gallery");
        load(false);
      },
    },
    FILTERS.map(([value, label]) => h("option", { value, selected: value === state.status }, label)),
  );

  const element = h(
    "div",
    { class: "page page--gallery" },
    h(
      "header",
      { class: "page__head" },
      h(
        "div",
        {},
        h("h1", {}, "Gallery"),
        h("p", { class: "lede" }, "Everything you've created, newest first."),
      ),
      h(
        "div",
        { class: "toolbar" },
        h("label", { for: "gallery-status", class: "toolbar__label" }, "Show"),
        filter,
        h("a", { href: "/generate", class: "btn btn--primary" }, icon("sparkles"), "New image"),
      ),
    ),
    grid,
    more,
  );

  const unsubscribe = subscribe((job) => {
    const card = cards.get(job.id);
    if (card) updateJobCard(card, job);
    else if (!state.status && !state.loading && grid.getAttribute("aria-busy") !== "true") {
      // A job started in another tab: show it at the top.
      grid.querySelector(".empty")?.remove();
      grid.prepend(h("li", {}, cardFor(job)));
    }
  });

  function cardFor(job) {
    const card = jobCard(job, {
      testid: "gallery-item",
      onCancel: async (j) => {
        try {
          await cancel(j.id);
        } catch (error) {
          notifyError(error);
        }
      },
    });
    cards.set(job.id, card);
    return card;
  }

  async function load(append) {
    state.loading?.abort();
    const controller = new AbortController();
    state.loading = controller;
    grid.setAttribute("aria-busy", "true");
    more.disabled = true;
    try {
      const page = await request("/generations", {
        query: { limit: PAGE_SIZE, cursor: append ? state.cursor : null, status: state.status },
        signal: controller.signal,
      });
      state.cursor = page.next_cursor;
      if (!append) {
        cards.clear();
        replace(grid);
      }
      for (const job of page.items) {
        if (cards.has(job.id)) continue;
        grid.append(h("li", {}, cardFor(track(job))));
      }
      if (cards.size === 0) {
        grid.append(
          h(
            "li",
            { class: "empty empty--art" },
            icon("image"),
            state.status ? "No images with this status." : "No images yet. ",
            state.status ? null : h("a", { href: "/generate" }, "Create your first one"),
          ),
        );
      }
      more.hidden = !state.cursor;
    } catch (error) {
      if (error.name !== "AbortError") notifyError(error);
    } finally {
      if (state.loading === controller) {
        state.loading = null;
        grid.setAttribute("aria-busy", "false");
        more.disabled = false;
      }
    }
  }

  load(false);
  return {
    element,
    title: "Gallery",
    destroy: () => {
      unsubscribe();
      state.loading?.abort();
    },
  };
}
