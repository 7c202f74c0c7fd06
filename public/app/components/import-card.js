import { request } from "../api.js";
import { remember } from "../characters.js";
import { h, icon } from "../dom.js";
import { notify, notifyError } from "../notify.js";
import { choose } from "./dialog.js";
import { readPngCard } from "./png-card.js";

const MAX_CARD_BYTES = 8 * 1024 * 1024;

/**
 * "Import card" button: a Character Card as a JSON file or a PNG with the card embedded, sent
 * as-is to `POST /characters/import`. The file is read here first, so a file that isn't a card
 * gets a plain answer without a round trip; a card the user already imported (the server
 * answers 409 with its id) is offered back instead of quietly copied.
 * @param {{onImported: (character: object) => void}} options `onImported` also gets the existing
 *   character when the user chooses to open it
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
      const parsed = await readCard(file);
      if (parsed.problem) {
        status.textContent = "";
        notify(parsed.problem, { tone: "error", timeout: 12_000 });
        return;
      }
      let character = await upload(parsed).catch((error) => {
        if (error.status === 409 && error.problem?.existing_id)
          return { existingId: error.problem.existing_id };
        throw error;
      });
      if (character.existingId) {
        // The server knows the caller imported this card before (same name and description).
        const existing = await request(`/characters/${encodeURIComponent(character.existingId)}`);
        const choice = await choose({
          title: `You already have ${existing.name}`,
          body: "You imported this card before. Open the one you have, or import it again as a separate copy?",
          actions: [
            { label: "Import a copy", value: "copy", testid: "import-copy" },
            { label: `Open ${existing.name}`, value: "open", tone: "primary", testid: "open-existing" },
          ],
          testid: "duplicate-card",
        });
        status.textContent = "";
        if (choice === "open") onImported(existing);
        if (choice !== "copy") return;
        character = await upload(parsed, { duplicate: true });
      }
      remember([character]);
      status.textContent = `Imported ${character.name}.`;
      notify(`Imported ${character.name}.`, { tone: "success" });
      onImported(character);
    } catch (error) {
      status.textContent = "";
      if (error.code === "invalid_request")
        notify(
          `“${file.name}” can't be imported: the card is incomplete or damaged${error.detail ? ` (${error.detail.replace(/[.\s]+$/, "")})` : ""}.`,
          { tone: "error", timeout: 12_000 },
        );
      else notifyError(error);
    } finally {
      label.classList.remove("is-busy");
    }
  });
  return h("div", { class: "import-card" }, label, status);
}

/**
 * What the file holds, or why it can't be a card, in words for people.
 * @returns {Promise<{problem?: string, card?: any, file: File, kind?: "png" | "json", text?: string}>}
 */
async function readCard(file) {
  const name = `“${file.name}”`;
  if (file.size > MAX_CARD_BYTES)
    return { file, problem: `${name} is too big: a character card is at most 8 MB.` };
  const buffer = await file.arrayBuffer();
  const png = await readPngCard(buffer);
  if (png.isPng) {
    if (png.card === null)
      return {
        file,
        problem: `${name} is an ordinary picture: there is no character card inside it. Character cards are PNG pictures saved by character sites and chat apps, or .json files.`,
      };
    if (png.card === undefined)
      return {
        file,
        problem: `${name} has a character card inside, but it is damaged. Try downloading it again.`,
      };
    return checkCard({ file, kind: "png", card: png.card }, name);
  }
  const text = new TextDecoder().decode(buffer);
  if (!/\.json$/i.test(file.name) && !file.type.includes("json") && !text.trimStart().startsWith("{"))
    return {
      file,
      problem: `${name} isn't a character card. Choose a card saved as a .png picture or a .json file.`,
    };
  try {
    return checkCard({ file, kind: "json", text, card: JSON.parse(text) }, name);
  } catch {
    return {
      file,
      problem: `${name} can't be read: the file is damaged or incomplete. Try downloading the card again.`,
    };
  }
}

function checkCard(parsed, name) {
  const data = cardData(parsed.card);
  if (typeof data?.name !== "string" || !data.name.trim())
    return {
      file: parsed.file,
      problem: `${name} isn't a character card: there is no character name in it.`,
    };
  return parsed;
}

/** V2/V3 cards keep the character under `data`; V1 cards at the top. */
function cardData(card) {
  return card && typeof card === "object" ? (card.data ?? card) : null;
}

function upload({ kind, file, text }, { duplicate = false } = {}) {
  const query = duplicate ? { duplicate: "true" } : undefined;
  return kind === "png"
    ? request("/characters/import", {
        method: "POST",
        query,
        body: file,
        headers: { "Content-Type": "image/png" },
      })
    : request("/characters/import", {
        method: "POST",
        query,
        body: text,
        headers: { "Content-Type": "application/json" },
      });
}
