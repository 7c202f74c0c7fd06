import { request } from "../api.js";
import { remember } from "../characters.js";
import { h, icon } from "../dom.js";
import { ApiError } from "../errors.js";

const SIZES = [
  { label: "Square", width: 1024, height: 1024 },
  { label: "Portrait", width: 832, height: 1216 },
  { label: "Landscape", width: 1216, height: 832 },
];

/**
 * The image request form. It checks what the browser can (in the API's own terms), and shows the
 * API's field errors (`errors[].path`) next to the fields they name.
 * `?character=<id>` preselects a character; `?prompt=` prefills the prompt.
 * @param {{query: URLSearchParams, onSubmit: (body: object) => Promise<void>}} options
 *   `onSubmit` gets the request body; whatever it throws is shown on the form.
 */
export function generateForm({ query, onSubmit }) {
  const field = (name, label, control, hint) =>
    h(
      "div",
      { class: "field", "data-field": name },
      h("label", { for: `gen-${name}`, class: "field__label" }, label),
      control,
      hint ? h("p", { id: `gen-${name}-hint`, class: "field__hint" }, hint) : null,
      h("p", { id: `gen-${name}-error`, class: "field__error", hidden: true }),
    );

  const prompt = h("textarea", {
    id: "gen-prompt",
    name: "prompt",
    class: "input",
    rows: 4,
    required: true,
    maxlength: 2000,
    placeholder: "A lighthouse on a cliff at dusk, oil painting, warm light",
    "data-testid": "gen-prompt",
    value: query.get("prompt") ?? "",
  });
  const negative = h("textarea", {
    id: "gen-negative_prompt",
    name: "negative_prompt",
    class: "input",
    rows: 2,
    maxlength: 2000,
    placeholder: "blurry, low quality, text",
    "data-testid": "gen-negative",
  });
  const width = numberInput("width", { min: 256, max: 1536, step: 64, value: 1024, testid: "gen-width" });
  const height = numberInput("height", { min: 256, max: 1536, step: 64, value: 1024, testid: "gen-height" });
  const steps = numberInput("steps", { min: 1, max: 100, step: 1, value: 30, testid: "gen-steps" });
  const guidance = numberInput("guidance", { min: 0, max: 30, step: 0.5, value: 7, testid: "gen-guidance" });
  const seed = numberInput("seed", {
    min: 0,
    max: 4294967295,
    step: 1,
    value: "",
    testid: "gen-seed",
    placeholder: "Random",
  });
  const character = h(
    "select",
    { id: "gen-character_id", name: "character_id", class: "input", "data-testid": "gen-character" },
    h("option", { value: "" }, "None"),
  );
  const sizePresets = h(
    "div",
    { class: "chips", role: "group", "aria-label": "Size presets" },
    SIZES.map((size) =>
      h(
        "button",
        {
          type: "button",
          class: "chip",
          "data-testid": "size-preset",
          onclick: () => {
            width.value = size.width;
            height.value = size.height;
            syncPresets();
          },
          "data-width": size.width,
          title: `${size.width}×${size.height}`,
          "data-height": size.height,
        },
        h("span", { class: `ratio ratio--${size.label.toLowerCase()}`, "aria-hidden": "true" }),
        size.label,
      ),
    ),
  );
  const syncPresets = () => {
    for (const chip of sizePresets.children) {
      chip.setAttribute(
        "aria-pressed",
        String(chip.dataset.width === width.value && chip.dataset.height === height.value),
      );
    }
  };
  width.addEventListener("input", syncPresets);
  height.addEventListener("input", syncPresets);
  syncPresets();

  const formError = h("div", {
    class: "form-error",
    role: "alert",
    "data-testid": "form-error",
    hidden: true,
  });
  const submit = h(
    "button",
    { type: "submit", class: "btn btn--primary btn--lg btn--block", "data-testid": "gen-submit" },
    icon("sparkles"),
    "Generate",
  );
  const form = h(
    "form",
    { class: "card gen-form", "data-testid": "generate-form", novalidate: true, onsubmit: handleSubmit },
    field("prompt", "Prompt", prompt, "Describe the picture. Up to 2,000 characters."),
    // In plain sight: "Create image" from a character's page arrives with that character chosen.
    field("character_id", "Character (optional)", character, "Whose picture this is, if anyone's."),
    field("negative_prompt", "Negative prompt (optional)", negative, "What to keep out of the picture."),
    h(
      "fieldset",
      { class: "fieldset" },
      h("legend", { class: "field__label" }, "Size"),
      sizePresets,
      h(
        "div",
        { class: "row" },
        field("width", "Width", width),
        h("span", { class: "row__x", "aria-hidden": "true" }, "×"),
        field("height", "Height", height),
      ),
      h("p", { class: "field__hint" }, "256 to 1536 pixels, in steps of 64."),
    ),
    h(
      "details",
      { class: "disclosure disclosure--inline" },
      h("summary", {}, "Advanced settings"),
      h(
        "div",
        { class: "grid-2" },
        field("steps", "Steps", steps, "1–100. More is slower, often finer."),
        field("guidance", "Guidance", guidance, "0–30. How closely to follow the prompt."),
        field("seed", "Seed", seed, "Leave empty for a random one."),
      ),
    ),
    formError,
    submit,
  );

  async function handleSubmit(event) {
    event.preventDefault();
    clearErrors();
    const body = readBody();
    if (!body) return;
    submit.disabled = true;
    submit.classList.add("is-busy");
    try {
      await onSubmit(body);
    } catch (error) {
      showErrors(error);
    } finally {
      submit.disabled = false;
      submit.classList.remove("is-busy");
    }
  }

  function readBody() {
    const problems = [];
    const text = prompt.value.trim();
    if (!text) problems.push({ path: "prompt", message: "write what you want to see" });
    const dims = {};
    for (const [name, input] of [
      ["width", width],
      ["height", height],
    ]) {
      const value = Number(input.value);
      if (!Number.isInteger(value) || value < 256 || value > 1536 || value % 64 !== 0) {
        problems.push({ path: name, message: "must be a multiple of 64 from 256 to 1536" });
      }
      dims[name] = value;
    }
    const stepsValue = Number(steps.value);
    if (!Number.isInteger(stepsValue) || stepsValue < 1 || stepsValue > 100)
      problems.push({ path: "steps", message: "must be a whole number from 1 to 100" });
    const guidanceValue = Number(guidance.value);
    if (guidance.value === "" || Number.isNaN(guidanceValue) || guidanceValue < 0 || guidanceValue > 30)
      problems.push({ path: "guidance", message: "must be between 0 and 30" });
    const seedValue = seed.value === "" ? undefined : Number(seed.value);
    if (
      seedValue !== undefined &&
      (!Number.isInteger(seedValue) || seedValue < 0 || seedValue > 4294967295)
    ) {
      problems.push({ path: "seed", message: "must be a whole number from 0 to 4294967295, or empty" });
    }
    if (problems.length) {
      showErrors(new ApiError({ status: 400, code: "invalid_request", errors: problems }));
      return null;
    }
    return {
      prompt: text,
      ...(negative.value.trim() ? { negative_prompt: negative.value.trim() } : {}),
      ...dims,
      steps: stepsValue,
      guidance: guidanceValue,
      ...(seedValue !== undefined ? { seed: seedValue } : {}),
      ...(character.value ? { character_id: character.value } : {}),
    };
  }

  function showErrors(error) {
    formError.hidden = false;
    formError.textContent = error.message;
    for (const { path, message } of error.errors ?? []) {
      const name = String(path).replace(/^body\./, "");
      const box = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
      if (!box) continue;
      const control = box.querySelector("input, textarea, select");
      const note = box.querySelector(".field__error");
      control?.setAttribute("aria-invalid", "true");
      control?.setAttribute("aria-describedby", note.id);
      note.hidden = false;
      note.textContent = message ? `${message[0].toUpperCase()}${message.slice(1)}` : "";
      if (box.closest("details")) box.closest("details").open = true;
    }
    form.querySelector('[aria-invalid="true"]')?.focus();
  }

  function clearErrors() {
    formError.hidden = true;
    formError.textContent = "";
    for (const control of form.querySelectorAll('[aria-invalid="true"]')) {
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
    }
    for (const note of form.querySelectorAll(".field__error")) note.hidden = true;
  }

  loadCharacters(character, query.get("character"));
  return { element: form };
}

function numberInput(name, { min, max, step, value, testid, placeholder }) {
  return h("input", {
    id: `gen-${name}`,
    name,
    type: "number",
    class: "input",
    inputmode: step < 1 ? "decimal" : "numeric",
    min,
    max,
    step,
    value: String(value),
    placeholder,
    "data-testid": testid,
  });
}

async function loadCharacters(select, preselect) {
  try {
    const [popular, mine] = await Promise.all([
      request("/characters/popular", { query: { limit: 50 } }),
      request("/characters", { query: { limit: 100 } }),
    ]);
    const seen = new Map();
    for (const c of [...remember(mine.items), ...remember(popular.items)]) seen.set(c.id, c);
    if (preselect && !seen.has(preselect)) {
      const extra = await request(`/characters/${encodeURIComponent(preselect)}`).catch(() => null);
      if (extra) seen.set(extra.id, extra);
    }
    const sorted = [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
    select.append(...sorted.map((c) => h("option", { value: c.id, selected: c.id === preselect }, c.name)));
    if (preselect && seen.has(preselect)) select.value = preselect;
  } catch {
    // Optional field: without the list the form still works.
  }
}
