import { request } from "../api.js";
import { remember } from "../characters.js";
import { characterCard } from "../components/character-card.js";
import { importCardButton } from "../components/import-card.js";
import { h, icon, replace } from "../dom.js";
import { notifyError } from "../notify.js";
import { whileShown } from "../ws.js";

const PAGE_SIZE = 24;
const SEARCH_DEBOUNCE_MS = 250;
// The tag list is read from this many characters (pages of 100); a catalogue larger than that
// needs a tag endpoint on the server.
const TAG_SCAN_PAGES = 5;

/**
 * `/` — search and every tag first (so the keyboard reaches them before a row of tiles), then
 * popular characters (only while not filtering), then every character matching, with "load
 * more". The search and tag live in the URL so a reload or a shared link shows the same list.
 * After a dropped connection, whatever failed to load loads again.
 */
export function charactersView(_params, query, { navigate }) {
  const state = { q: query.get("q") ?? "", tag: query.get("tag") ?? "", cursor: null, loading: null };
  /** Every tag of every character the caller can see, counted once: `[tag, count][]`, busiest first. */
  let allTags = [];
  const failed = { popular: false, list: false, tags: false };

  const popularList = h(
    "ul",
    { class: "char-grid char-grid--popular", "data-testid": "popular-list", "aria-busy": "true" },
    skeletons(6),
  );
  const list = h(
    "ul",
    { class: "char-grid", "data-testid": "character-list", "aria-busy": "true" },
    skeletons(6),
  );
  const count = h("p", { class: "muted result-count", role: "status", "data-testid": "character-count" });
  const tagBar = h("div", {
    class: "chips tag-filter",
    role: "group",
    "aria-label": "Filter by tag",
    "data-testid": "tag-filter",
    "aria-busy": "true",
  });
  const loadMore = h(
    "button",
    {
      type: "button",
      class: "btn btn--secondary load-more",
      "data-testid": "load-more-characters",
      hidden: true,
      onclick: () => load({ append: true }),
    },
    "Load more",
  );
  const search = h("input", {
    id: "character-search",
    type: "search",
    class: "input input--search",
    placeholder: "Search by name or description",
    autocomplete: "off",
    enterkeyhint: "search",
    value: state.q,
    "data-testid": "character-search",
  });
  let debounce = 0;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => setFilter({ q: search.value.trim() }), SEARCH_DEBOUNCE_MS);
  });

  const popularSection = h(
    "section",
    { class: "section", "aria-labelledby": "popular-heading", "data-testid": "popular-section" },
    h("h2", { id: "popular-heading", class: "section__title" }, icon("flame"), "Popular right now"),
    popularList,
  );
  const element = h(
    "div",
    { class: "page page--characters" },
    h(
      "header",
      { class: "page__head" },
      h(
        "div",
        {},
        h("h1", {}, "Characters"),
        h("p", { class: "lede" }, "Pick someone to talk to — or bring your own character card."),
      ),
      importCardButton({
        onImported: (character) => navigate(`/characters/${encodeURIComponent(character.id)}`),
      }),
    ),
    h(
      "form",
      {
        role: "search",
        class: "searchbar",
        onsubmit: (event) => {
          event.preventDefault();
          clearTimeout(debounce);
          setFilter({ q: search.value.trim() });
        },
      },
      h("label", { for: "character-search", class: "visually-hidden" }, "Search characters"),
      icon("search"),
      search,
    ),
    tagBar,
    popularSection,
    h(
      "section",
      { class: "section", "aria-labelledby": "all-heading" },
      h("h2", { id: "all-heading", class: "section__title" }, "All characters"),
      count,
      list,
      loadMore,
    ),
  );

  function setFilter(change) {
    Object.assign(state, change);
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.tag) params.set("tag", state.tag);
    const text = params.toString();
    history.replaceState(null, "", text ? `/?${text}` : "/");
    showPopular();
    renderTags();
    load({ append: false });
  }

  function showPopular() {
    popularSection.hidden = Boolean(state.q || state.tag) || popularList.dataset.empty === "true";
  }

  /** Reads the whole catalogue's tags once per visit, so the chips don't depend on what was searched. */
  async function loadTags() {
    const counts = new Map();
    try {
      let cursor = null;
      for (let page = 0; page < TAG_SCAN_PAGES; page++) {
        const result = await request("/characters", { query: { limit: 100, cursor } });
        for (const character of remember(result.items)) {
          for (const tag of character.tags ?? []) {
            // Spellings that differ only in case are one tag; the first one seen names it.
            const key = tag.toLowerCase();
            const known = counts.get(key) ?? { tag, count: 0 };
            known.count += 1;
            counts.set(key, known);
          }
        }
        cursor = result.next_cursor;
        if (!cursor) break;
      }
      failed.tags = false;
    } catch {
      failed.tags = true;
      return;
    } finally {
      tagBar.setAttribute("aria-busy", "false");
    }
    allTags = [...counts.values()]
      .sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag))
      .map(({ tag, count }) => [tag, count]);
    renderTags();
  }

  function renderTags() {
    const tags = allTags.map(([tag]) => tag);
    if (state.tag && !tags.some((tag) => tag.toLowerCase() === state.tag.toLowerCase()))
      tags.unshift(state.tag);
    const chip = (label, tag, title) =>
      h(
        "button",
        {
          type: "button",
          class: "chip",
          "aria-pressed": String(state.tag.toLowerCase() === tag.toLowerCase()),
          "data-testid": "tag-chip",
          "data-tag": tag,
          title,
          onclick: () => setFilter({ tag: state.tag.toLowerCase() === tag.toLowerCase() ? "" : tag }),
        },
        label,
      );
    const counts = new Map(allTags);
    replace(
      tagBar,
      chip("All", ""),
      tags.map((tag) =>
        chip(
          `#${tag}`,
          tag,
          counts.has(tag) ? `${counts.get(tag)} ${counts.get(tag) === 1 ? "character" : "characters"}` : null,
        ),
      ),
    );
  }

  async function loadPopular() {
    try {
      const { items } = await request("/characters/popular", { query: { limit: 12 } });
      remember(items);
      failed.popular = false;
      replace(
        popularList,
        items.map((c) => characterCard(c, { testid: "popular-item" })),
      );
      popularList.dataset.empty = String(items.length === 0);
      showPopular();
    } catch (error) {
      failed.popular = true;
      replace(popularList, h("li", { class: "empty", role: "alert" }, error.message));
    } finally {
      popularList.setAttribute("aria-busy", "false");
    }
  }

  async function load({ append }) {
    state.loading?.abort();
    const controller = new AbortController();
    state.loading = controller;
    list.setAttribute("aria-busy", "true");
    loadMore.disabled = true;
    if (!append) count.textContent = "Searching…";
    try {
      const page = await request("/characters", {
        query: { q: state.q, tag: state.tag, limit: PAGE_SIZE, cursor: append ? state.cursor : null },
        signal: controller.signal,
      });
      remember(page.items);
      failed.list = false;
      state.cursor = page.next_cursor;
      const cards = page.items.map((c) => characterCard(c));
      if (append) list.append(...cards);
      else replace(list, cards);
      const shown = list.querySelectorAll('[data-testid="character-item"]').length;
      if (shown === 0) {
        replace(
          list,
          h(
            "li",
            { class: "empty" },
            state.q || state.tag ? "No characters match. Try another word or tag." : "No characters yet.",
          ),
        );
      }
      count.textContent = describeCount(shown, Boolean(page.next_cursor), state);
      loadMore.hidden = !page.next_cursor;
    } catch (error) {
      if (error.name === "AbortError") return;
      count.textContent = "";
      if (append) notifyError(error);
      else {
        // Grey placeholders would look like loading forever: say what happened instead.
        failed.list = true;
        replace(list, h("li", { class: "empty", role: "alert" }, error.message));
      }
    } finally {
      if (state.loading === controller) {
        state.loading = null;
        list.setAttribute("aria-busy", "false");
        loadMore.disabled = false;
      }
    }
  }

  whileShown(element, "reconnect", () => {
    if (failed.popular) loadPopular();
    if (failed.list) load({ append: false });
    if (failed.tags) loadTags();
  });

  showPopular();
  renderTags();
  loadTags();
  loadPopular();
  load({ append: false });

  return {
    element,
    title: "Characters",
    destroy: () => {
      clearTimeout(debounce);
      state.loading?.abort();
    },
  };
}

function describeCount(shown, more, { q, tag }) {
  const filter = [q && `matching “${q}”`, tag && `tagged #${tag}`].filter(Boolean).join(" and ");
  const noun = shown === 1 ? "character" : "characters";
  return `${more ? "Showing " : ""}${shown}${more ? "+" : ""} ${noun}${filter ? ` ${filter}` : ""}`;
}

function skeletons(n) {
  return Array.from({ length: n }, () =>
    h("li", { class: "char-card char-card--skeleton", "aria-hidden": "true" }),
  );
}
