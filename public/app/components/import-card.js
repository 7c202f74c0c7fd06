import { request } from "../api.js";
import { remember } from "../characters.js";
import { h, icon } from "../dom.js";
import { ApiError } from "../errors.js";
import { notify, notifyError } from "../notify.js";

const MAX_CARD_BYTES = 8 * 1024 * 1024;

/**
 * "Import card" button: a Character Card V2 as a JSON file or a PNG with the card embedded,
 * sent as-is to `POST /characters/import`.
 * @param {{onImported: (character: object) => void}} options
 */
export function importCardButton({ onImported }) {
  const input = h("input", {
    id: "import-card",
    type: "file",
    class: "visually-hidden",
    accept: ".json,.png,application/json,image/png",
    "data-testid": "import-card-input",
  });
  // The file input sits inside its label, visually hidden but focusable: keyboard users tab to it
  // and the label shows the focus ring (see `.btn:focus-within` in app.css).
  const label = h(
    "label",
    { class: "btn btn--secondary", "data-testid": "import-card" },
    icon("upload"),
    "Import card",
    input,
  );
  const status = h("span", { class: "visually-hidden", role: "status", "data-testid": "import-status" });

  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    label.classList.add("is-busy");
    status.textContent = `Importing ${file.name}…`;
    try {
      const character = await importCard(file);
      remember([character]);
      status.textContent = `Imported ${character.name}.`;
      notify(`Imported ${character.name}.`, { tone: "success" });
      onImported(character);
    } catch (error) {
      status.textContent = "";
      // For a broken card the server's own sentence ("The card is broken: ...") says it best.
      if (error.code === "invalid_request" && error.detail)
        notify(`That card can't be imported. ${error.detail}`, { tone: "error", timeout: 9000 });
      else notifyError(error);
    } finally {
      label.classList.remove("is-busy");
    }
  });
  return h("div", { class: "import-card" }, label, status);
}

async function importCard(file) {
  if (file.size > MAX_CARD_BYTES) throw new ApiError({ status: 413, code: "payload_too_large" });
  const isPng = file.type === "image/png" || /\.png$/i.test(file.name);
  if (isPng) {
    return request("/characters/import", {
      method: "POST",
      body: file,
      headers: { "Content-Type": "image/png" },
    });
  }
  const text = await file.text();
  try {
    JSON.parse(text);
  } catch {
    throw new ApiError({
      status: 400,
      code: "invalid_request",
      detail: "that file isn't valid JSON. Choose a Character Card V2 .json or .png file.",
    });
  }
  return request("/characters/import", {
    method: "POST",
    body: text,
    headers: { "Content-Type": "application/json" },
  });
}
