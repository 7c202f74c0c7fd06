import { h } from "../dom.js";

/** Any path the router doesn't know. */
export function notFoundView() {
  const element = h(
    "div",
    { class: "page page--narrow page--center" },
    h("h1", {}, "Page not found"),
    h("p", { class: "lede" }, "That address doesn't lead anywhere here."),
    h("a", { href: "/", class: "btn btn--primary" }, "Browse characters"),
  );
  return { element, title: "Not found" };
}
