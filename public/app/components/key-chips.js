import { h, replace } from "../dom.js";

/**
 * A list of keywords edited as chips: Enter or a comma adds what was typed, × or Backspace in
 * the empty box removes one. Pasting "a, b, c" adds three.
 * @param {{id: string, label: string, keys?: string[], onChange?: (keys: string[]) => void, testid?: string}} options
 */
export function keyChips({ id, label, keys = [], onChange, testid = "key-chips" }) {
  let values = keys.filter((key) => typeof key === "string" && key.trim());
  const list = h("ul", { class: "key-chips__list", "aria-label": label });
  const input = h("input", {
    id,
    class: "key-chips__input",
    type: "text",
    autocomplete: "off",
    placeholder: values.length ? "" : "Type a keyword, then Enter",
    "data-testid": `${testid}-input`,
  });
  const element = h(
    "div",
    { class: "key-chips input", "data-testid": testid, onclick: () => input.focus() },
    list,
    input,
  );

  function render() {
    replace(
      list,
      values.map((key, index) =>
        h(
          "li",
          { class: "chip key-chip", "data-testid": `${testid}-chip` },
          h("span", {}, key),
          h(
            "button",
            {
              type: "button",
              class: "key-chip__remove",
              "aria-label": `Remove ${key}`,
              onclick: (event) => {
                event.stopPropagation();
                values = values.filter((_, i) => i !== index);
                changed();
                input.focus();
              },
            },
            "×",
          ),
        ),
      ),
    );
    input.placeholder = values.length ? "" : "Type a keyword, then Enter";
  }

  function changed() {
    render();
    onChange?.([...values]);
  }

  /** Adds what is typed (split on commas); true when something was added. */
  function commit() {
    const added = input.value
      .split(",")
      .map((key) => key.trim())
      .filter((key) => key && !values.includes(key));
    input.value = "";
    if (added.length === 0) return false;
    values = [...values, ...added];
    changed();
    return true;
  }

  input.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === ",") && !event.isComposing) {
      event.preventDefault();
      commit();
    } else if (event.key === "Backspace" && !input.value && values.length) {
      values = values.slice(0, -1);
      changed();
    }
  });
  input.addEventListener("input", () => {
    if (input.value.includes(",")) commit();
  });
  // A keyword typed but not yet committed counts when the box loses focus (and before saving).
  input.addEventListener("blur", commit);
  render();

  return {
    element,
    /** The keys, including one still typed in the box. */
    get value() {
      commit();
      return [...values];
    },
  };
}
