import { request } from "../api.js";
import { remember } from "../characters.js";
import { characterCard } from "../components/character-card.js";
import { importCardButton } from "../components/import-card.js";
import { h, icon, replace } from "../dom.js";
import { notifyError } from "../notify.js";

const PAGE_SIZE = 24;
const SEARCH_DEBOUNCE_MS = 250;

/**
 * `/` — popular characters, then every character with search, a tag filter and "load more".
 * The search and tag live in the URL so a reload or a shared link shows the same list.
 */
export function charactersView(_params, query, { navigate }) {
  const state = { q: query.get("q") ?? "", tag: query.get("tag") ?? "", cursor: null, loading: null };
  const knownTags = new Map();

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
    class: "chips",
    role: "group",
    "aria-label": "Filter by tag",
    "data-testid": "tag-filter",
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
      "section",
      { class: "section", "aria-labelledby": "popular-heading", "data-testid": "popular-section" },
      h("h2", { id: "popular-heading", class: "section__title" }, icon("flame"), "Popular right now"),
      popularList,
    ),
    h(
      "section",
      { class: "section", "aria-labelledby": "all-heading" },
      h("h2", { id: "all-heading", class: "section__title" }, "All characters"),
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
    renderTags();
    load({ append: false });
  }

  function collectTags(characters) {
    for (const character of characters) {
      for (const tag of character.tags ?? []) knownTags.set(tag, (knownTags.get(tag) ?? 0) + 1);
    }
  }

  function renderTags() {
    const top = [...knownTags.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 14)
      .map(([tag]) => tag);
    if (state.tag && !top.includes(state.tag)) top.unshift(state.tag);
    const chip = (label, tag) =>
      h(
        "button",
        {
          type: "button",
          class: "chip",
          "aria-pressed": String(state.tag === tag),
          "data-testid": "tag-chip",
          "data-tag": tag,
          onclick: () => setFilter({ tag: state.tag === tag ? "" : tag }),
        },
        label,
      );
    replace(
      tagBar,
      chip("All", ""),
      top.map((tag) => chip(`#${tag}`, tag)),
    );
  }

  async function loadPopular() {
    try {
      const { items } = await request("/characters/popular", { query: { limit: 12 } });
      remember(items);
      collectTags(items);
      renderTags();
      popularList.setAttribute("aria-busy", "false");
      replace(
        popularList,
        items.map((c) => characterCard(c, { testid: "popular-item" })),
      );
      if (items.length === 0) element.querySelector('[data-testid="popular-section"]').hidden = true;
    } catch (error) {
      replace(popularList, h("li", { class: "empty" }, error.message));
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
      collectTags(page.items);
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
      renderTags();
    } catch (error) {
      if (error.name === "AbortError") return;
      count.textContent = "";
      notifyError(error);
    } finally {
      if (state.loading === controller) {
        state.loading = null;
        list.setAttribute("aria-busy", "false");
        loadMore.disabled = false;
      }
    }
  }

  renderTags();
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
