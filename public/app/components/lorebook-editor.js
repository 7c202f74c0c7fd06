import { h, icon } from "../dom.js";
import { keyChips } from "./key-chips.js";

let serial = 0;

/**
 * Edits a Character Card V2 lorebook (`character_book`) the way SillyTavern's world info editor
 * does: entries that add facts to the prompt when one of their keywords comes up. Each entry can
 * be switched off, made constant (always in), or selective (a secondary keyword must match too),
 * and placed before or after the character, by insertion order, with a priority for when the
 * token budget is tight. Fields this editor doesn't show (extensions, comments, ids) are kept.
 * @param {{book: object | null | undefined}} options
 */
export function lorebookEditor({ book }) {
  const original = book && typeof book === "object" ? structuredClone(book) : null;
  /** @type {{entry: object, read: () => object, element: HTMLElement}[]} */
  let rows = [];
  const uid = ++serial;

  const bookName = h("input", {
    id: `lore-${uid}-name`,
    class: "input",
    maxlength: 200,
    value: original?.name ?? "",
    placeholder: "e.g. Eldoria",
    "data-testid": "lore-book-name",
  });
  const scanDepth = numberInput(`lore-${uid}-scan`, original?.scan_depth, {
    min: 1,
    max: 100,
    placeholder: "4",
  });
  const tokenBudget = numberInput(`lore-${uid}-budget`, original?.token_budget, {
    min: 1,
    max: 100_000,
    placeholder: "no limit",
  });
  const list = h("ol", { class: "lore__entries", "data-testid": "lore-entries" });
  const empty = h("p", { class: "muted lore__empty" }, "No entries yet.");
  const addButton = h(
    "button",
    { type: "button", class: "btn btn--secondary", "data-testid": "lore-add" },
    "+ Add entry",
  );

  const element = h(
    "section",
    { class: "lore", "data-testid": "lorebook-editor", "aria-labelledby": `lore-${uid}-title` },
    h("h2", { id: `lore-${uid}-title`, class: "section__title" }, "Lorebook"),
    h(
      "p",
      { class: "field__hint" },
      "Facts the character brings up when a keyword appears in the last messages. Constant entries are always in.",
    ),
    h(
      "div",
      { class: "grid-3" },
      field(`lore-${uid}-name`, "Lorebook name", bookName),
      field(`lore-${uid}-scan`, "Scan depth (messages)", scanDepth),
      field(`lore-${uid}-budget`, "Token budget", tokenBudget),
    ),
    list,
    empty,
    addButton,
  );

  addButton.addEventListener("click", () => {
    const row = entryRow({ keys: [], content: "", enabled: true, insertion_order: nextOrder() }, true);
    rows.push(row);
    list.append(row.element);
    empty.hidden = true;
    row.element.querySelector("input[type='text'], textarea")?.focus();
  });
  for (const entry of original?.entries ?? []) rows.push(entryRow(entry, false));
  list.append(...rows.map((row) => row.element));
  empty.hidden = rows.length > 0;

  function nextOrder() {
    return rows.reduce((max, row) => Math.max(max, Number(row.read().insertion_order) || 0), 0) + 10;
  }

  function entryRow(entry, open) {
    const id = `lore-${uid}-${++serial}`;
    const enabled = h("input", {
      type: "checkbox",
      checked: entry.enabled !== false,
      "aria-label": "Enabled",
      "data-testid": "lore-enabled",
    });
    const title = h("span", { class: "lore-entry__title" });
    const name = h("input", {
      id: `${id}-name`,
      class: "input",
      maxlength: 200,
      value: entry.name ?? entry.comment ?? "",
      "data-testid": "lore-name",
    });
    const keys = keyChips({
      id: `${id}-keys`,
      label: "Keywords",
      keys: entry.keys ?? [],
      testid: "lore-keys",
      onChange: describe,
    });
    const content = h("textarea", {
      id: `${id}-content`,
      class: "input",
      rows: 4,
      value: entry.content ?? "",
      "data-testid": "lore-content",
    });
    const constant = checkbox("Constant — always in the prompt", entry.constant === true, "lore-constant");
    const selective = checkbox(
      "Selective — a secondary keyword must match too",
      entry.selective === true,
      "lore-selective",
    );
    const caseSensitive = checkbox("Case-sensitive keywords", entry.case_sensitive === true, "lore-case");
    const secondary = keyChips({
      id: `${id}-secondary`,
      label: "Secondary keywords",
      keys: entry.secondary_keys ?? [],
      testid: "lore-secondary",
    });
    const secondaryField = field(`${id}-secondary`, "Secondary keywords", secondary.element);
    const position = h(
      "select",
      { id: `${id}-position`, class: "input", "data-testid": "lore-position" },
      h(
        "option",
        { value: "before_char", selected: entry.position !== "after_char" },
        "Before the character",
      ),
      h("option", { value: "after_char", selected: entry.position === "after_char" }, "After the character"),
    );
    const order = numberInput(`${id}-order`, entry.insertion_order ?? 100, { min: -10_000, max: 10_000 });
    order.dataset.testid = "lore-order";
    const priority = numberInput(`${id}-priority`, entry.priority, {
      min: -10_000,
      max: 10_000,
      placeholder: "0",
    });
    priority.dataset.testid = "lore-priority";
    const remove = h(
      "button",
      { type: "button", class: "btn btn--ghost btn--sm lore-entry__remove", "data-testid": "lore-remove" },
      icon("trash"),
      "Remove entry",
    );

    const element = h(
      "li",
      { class: "lore-entry", "data-testid": "lore-entry" },
      h(
        "details",
        { class: "disclosure", open },
        h("summary", {}, title),
        h(
          "div",
          { class: "disclosure__body lore-entry__body" },
          h("label", { class: "lore-entry__enabled" }, enabled, "Enabled"),
          field(`${id}-name`, "Name", name),
          field(
            `${id}-keys`,
            "Keywords",
            keys.element,
            "Any of these in the recent messages brings the entry in.",
          ),
          field(`${id}-content`, "Content", content, "What goes into the prompt."),
          h(
            "div",
            { class: "lore-entry__flags" },
            constant.element,
            selective.element,
            caseSensitive.element,
          ),
          secondaryField,
          h(
            "div",
            { class: "grid-3" },
            field(`${id}-position`, "Position", position),
            field(`${id}-order`, "Insertion order", order, "Lower goes in first."),
            field(`${id}-priority`, "Priority", priority, "Lowest is dropped first when over budget."),
          ),
          remove,
        ),
      ),
    );

    function describe() {
      const keyList = keys.value;
      title.textContent = `${name.value.trim() || keyList.slice(0, 3).join(", ") || "New entry"}${
        constant.input.checked ? " · constant" : ""
      }${enabled.checked ? "" : " · off"}`;
      element.dataset.enabled = String(enabled.checked);
      secondaryField.hidden = !selective.input.checked;
    }
    for (const control of [enabled, name, constant.input, selective.input])
      control.addEventListener("input", describe);
    // The switch works from the closed row too, without opening it.
    const summaryToggle = h("input", {
      type: "checkbox",
      class: "lore-entry__toggle",
      checked: enabled.checked,
      "aria-label": "Entry enabled",
      "data-testid": "lore-toggle",
    });
    summaryToggle.addEventListener("input", () => {
      enabled.checked = summaryToggle.checked;
      describe();
    });
    enabled.addEventListener("input", () => {
      summaryToggle.checked = enabled.checked;
    });
    // Beside the row's heading, not inside <summary>, where a click would also open or close it.
    element.prepend(summaryToggle);
    describe();

    const row = {
      entry,
      element,
      read() {
        const out = { ...entry };
        out.keys = keys.value;
        out.content = content.value;
        out.extensions = entry.extensions ?? {};
        out.enabled = enabled.checked;
        out.insertion_order = toNumber(order.value) ?? 100;
        const label = name.value.trim();
        if (label) out.name = label;
        else delete out.name;
        out.constant = constant.input.checked;
        out.selective = selective.input.checked;
        out.secondary_keys = secondary.value;
        out.case_sensitive = caseSensitive.input.checked;
        out.position = position.value;
        const rank = toNumber(priority.value);
        if (rank === null) delete out.priority;
        else out.priority = rank;
        return out;
      },
    };
    remove.addEventListener("click", () => {
      rows = rows.filter((other) => other !== row);
      element.remove();
      empty.hidden = rows.length > 0;
      addButton.focus();
    });
    return row;
  }

  return {
    element,
    /**
     * The book to save: null when there never was one and none was made; otherwise the original
     * object with the edited settings and entries (entries get ids when they have none).
     * Throws with a message naming the entry when one can't be saved.
     */
    get value() {
      const entries = rows.map((row) => row.read());
      if (!original && entries.length === 0) return null;
      entries.forEach((entry, index) => {
        if (!entry.content.trim()) throw new Error(`Lorebook entry ${index + 1} has no content.`);
        if (!entry.constant && entry.keys.length === 0)
          throw new Error(`Lorebook entry ${index + 1} needs a keyword (or make it constant).`);
      });
      let nextId = entries.reduce((max, entry) => Math.max(max, Number(entry.id) || 0), 0);
      for (const entry of entries) if (entry.id === undefined) entry.id = ++nextId;
      const out = { ...(original ?? {}), extensions: original?.extensions ?? {}, entries };
      const label = bookName.value.trim();
      if (label) out.name = label;
      else delete out.name;
      setOrDelete(out, "scan_depth", toNumber(scanDepth.value));
      setOrDelete(out, "token_budget", toNumber(tokenBudget.value));
      return out;
    },
  };
}

function field(id, label, control, hint) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id, class: "field__label" }, label),
    control,
    hint ? h("p", { class: "field__hint" }, hint) : null,
  );
}

function checkbox(label, checked, testid) {
  const input = h("input", { type: "checkbox", checked, "data-testid": testid });
  return { input, element: h("label", { class: "check" }, input, label) };
}

function numberInput(id, value, { min, max, placeholder } = {}) {
  return h("input", {
    id,
    class: "input",
    type: "number",
    inputmode: "numeric",
    step: 1,
    min,
    max,
    placeholder,
    value: Number.isFinite(value) ? String(value) : "",
  });
}

function toNumber(text) {
  if (String(text).trim() === "") return null;
  const value = Number(text);
  return Number.isFinite(value) ? Math.trunc(value) : null;
}

function setOrDelete(target, key, value) {
  if (value === null) delete target[key];
  else target[key] = value;
}
