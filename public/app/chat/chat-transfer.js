import { request, requestBlob } from "../api.js";
import { h, icon } from "../dom.js";
import { notify, notifyError } from "../notify.js";

const MAX_CHAT_FILE_BYTES = 8 * 1024 * 1024;

/**
 * "Export": the chat as a SillyTavern chat file (`.jsonl`, swipes included), fetched with our
 * token (a plain link can't carry it) and saved.
 * @param {{chatId: string}} options
 */
export function chatExportButton({ chatId }) {
  const button = h(
    "button",
    {
      type: "button",
      class: "btn btn--secondary btn--sm",
      "data-testid": "export-chat",
      title: "Download this chat as a SillyTavern .jsonl file",
    },
    icon("download"),
    h("span", { class: "chat-head__action-text" }, "Export"),
  );
  button.addEventListener("click", async () => {
    button.classList.add("is-busy");
    try {
      const blob = await requestBlob(`/api/v1/chats/${encodeURIComponent(chatId)}/export`);
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: `chat-${chatId}.jsonl` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      notifyError(error);
    } finally {
      button.classList.remove("is-busy");
    }
  });
  return button;
}

/**
 * "Import chat": a SillyTavern chat file (`.jsonl`) becomes a new chat with `character`
 * (`POST /chats/import?character_id=`). A broken file gets the server's answer, which names the line.
 * @param {{character: {id: string, name: string}, onImported: (chat: object) => void}} options
 */
export function chatImportButton({ character, onImported }) {
  const input = h("input", {
    type: "file",
    class: "visually-hidden",
    accept: ".jsonl,application/jsonl,application/x-ndjson",
    "data-testid": "import-chat-input",
  });
  const label = h(
    "label",
    {
      class: "btn btn--secondary",
      "data-testid": "import-chat",
      title: "Import a SillyTavern chat (.jsonl)",
    },
    icon("upload"),
    "Import chat",
    input,
  );
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    if (file.size > MAX_CHAT_FILE_BYTES) {
      notify(`${file.name} is larger than 8 MB, the most a chat file may be.`, { tone: "error" });
      return;
    }
    label.classList.add("is-busy");
    try {
      const chat = await request("/chats/import", {
        method: "POST",
        query: { character_id: character.id },
        headers: { "Content-Type": "application/jsonl" },
        body: file,
      });
      notify(`Chat imported into ${character.name}.`, { tone: "success", timeout: 4000 });
      onImported(chat);
    } catch (error) {
      notifyError(error);
    } finally {
      label.classList.remove("is-busy");
    }
  });
  return label;
}
