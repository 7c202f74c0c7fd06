/**
 * History-API router. The Worker answers the app's own paths with index.html
 * (src/http/app-shell.ts lists the paths that get index.html), so deep links and reloads just work.
 *
 * A route's view is `(params, query) => {element, title, destroy?}`; the router mounts it into the
 * outlet, moves focus to its heading for screen-reader and keyboard users, and calls `destroy` on
 * the way out so views can drop their socket listeners.
 */
export class Router {
  /** @type {{pattern: RegExp, keys: string[], view: Function}[]} */
  #routes = [];
  #current = null;
  #outlet;
  #fallback;
  #onChange;

  /**
   * @param {HTMLElement} outlet
   * @param {{fallback: Function, onChange?: (path: string) => void}} options
   */
  constructor(outlet, { fallback, onChange }) {
    this.#outlet = outlet;
    this.#fallback = fallback;
    this.#onChange = onChange;
  }

  /**
   * @example
   * router.add("/chats/:id", ({ id }) => chatView(id))
   */
  add(path, view) {
    const keys = [];
    const source = path.replace(/:(\w+)/g, (_, key) => {
      keys.push(key);
      return "([^/]+)";
    });
    this.#routes.push({ pattern: new RegExp(`^${source}/?$`), keys, view });
    return this;
  }

  start() {
    window.addEventListener("popstate", () => this.#render({ focus: true }));
    document.addEventListener("click", (event) => this.#interceptLink(event));
    this.#render({ focus: false });
  }

  /** Goes to `path` inside the app. */
  navigate(path, { replace = false } = {}) {
    if (path === location.pathname + location.search) return;
    history[replace ? "replaceState" : "pushState"](null, "", path);
    this.#render({ focus: true });
  }

  #interceptLink(event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    const link = event.target.closest?.("a[href]");
    if (!link || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || /^\/(api|images)\//.test(url.pathname)) return;
    event.preventDefault();
    this.navigate(url.pathname + url.search);
  }

  #render({ focus }) {
    this.#current?.destroy?.();
    const path = location.pathname;
    const query = new URLSearchParams(location.search);
    let mounted = null;
    for (const route of this.#routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      const params = Object.fromEntries(route.keys.map((key, i) => [key, decodeURIComponent(match[i + 1])]));
      mounted = route.view(params, query);
      break;
    }
    mounted ??= this.#fallback();
    this.#current = mounted;
    this.#outlet.replaceChildren(mounted.element);
    document.title = mounted.title ? `${mounted.title} · Edge Art` : "Edge Art";
    this.#onChange?.(path);
    if (focus) {
      window.scrollTo(0, 0);
      // A view may name a better place than its heading, e.g. a chat's message box.
      if (mounted.focus) {
        mounted.focus();
        return;
      }
      const heading = this.#outlet.querySelector("h1");
      if (heading) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: true });
      }
    }
  }
}
