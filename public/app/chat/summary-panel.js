import { request } from "../api.js";
import { h, replace } from "../dom.js";
import { notify, notifyError } from "../notify.js";

const MAX_SUMMARY = 8000;

/**
 * The chat's long memory, collapsed above the thread: the rolling summary the model writes of
 * turns that no longer fit (editable, since it is the character's memory and may be wrong), and
 * a preview of what the next reply will see, with the lorebook entries that fired.
 * @param {{chatId: string}} options
 */
export function summaryPanel({ chatId }) {
  const chatPath = `/chats/${encodeURIComponent(chatId)}`;
  let saved = "";
  const state = h("span", { class: "memory__state muted", "data-testid": "summary-state" }, "");
  const input = h("textarea", {
    id: "chat-summary",
    class: "input memory__input",
    rows: 3,
    maxlength: MAX_SUMMARY,
    placeholder:
      "Nothing yet. As the chat outgrows what the model can read at once, the older turns are summed up here.",
    "data-testid": "summary-input",
  });
  const saveButton = h(
    "button",
    { type: "button", class: "btn btn--primary btn--sm", "data-testid": "summary-save", disabled: true },
    "Save memory",
  );
  const preview = h("div", { class: "memory__preview", "data-testid": "context-preview", hidden: true });
  const previewButton = h(
    "button",
    { type: "button", class: "btn btn--secondary btn--sm", "data-testid": "context-show" },
    "What the next reply sees",
  );
  const element = h(
    "details",
    { class: "memory", "data-testid": "summary-panel" },
    h("summary", { class: "memory__head" }, h("span", {}, "Memory"), state),
    h(
      "div",
      { class: "memory__body" },
      h(
        "label",
        { for: "chat-summary", class: "field__label" },
        "What the character remembers from earlier in this chat",
      ),
      input,
      h("div", { class: "memory__actions" }, previewButton, saveButton),
      preview,
    ),
  );

  input.addEventListener("input", () => {
    saveButton.disabled = input.value === saved;
  });
  saveButton.addEventListener("click", async () => {
    saveButton.disabled = true;
    const summary = input.value.trim();
    try {
      const chat = await request(chatPath, { method: "PATCH", body: { summary: summary || null } });
      show(chat);
      notify("Memory saved.", { tone: "success", timeout: 3000 });
    } catch (error) {
      saveButton.disabled = false;
      notifyError(error);
    }
  });
  previewButton.addEventListener("click", async () => {
    previewButton.classList.add("is-busy");
    try {
      showContext(await request(`${chatPath}/context`));
    } catch (error) {
      notifyError(error);
    } finally {
      previewButton.classList.remove("is-busy");
    }
  });

  function show(chat) {
    saved = chat.summary ?? "";
    input.value = saved;
    saveButton.disabled = true;
    state.textContent = saved ? `${saved.length.toLocaleString()} characters` : "empty";
    element.dataset.hasSummary = String(Boolean(saved));
  }

  function showContext(context) {
    preview.hidden = false;
    const lore = context.lore ?? [];
    replace(
      preview,
      h(
        "p",
        { class: "field__hint" },
        `${(context.chars ?? 0).toLocaleString()} of ${(context.budget_chars ?? 0).toLocaleString()} characters`,
        context.summary_used ? " · memory included" : " · memory not needed yet",
        ` · ${context.messages?.length ?? 0} prompt parts`,
      ),
      h(
        "div",
        { class: "memory__lore", "data-testid": "lore-used" },
        h("span", { class: "field__label" }, "Lore used: "),
        lore.length
          ? h(
              "ul",
              { class: "chips" },
              lore.map((entry) =>
                h(
                  "li",
                  { class: "chip", "data-testid": "lore-entry" },
                  entry.name ?? `Entry ${entry.index + 1}`,
                ),
              ),
            )
          : h("span", { class: "muted" }, "none — no keyword came up"),
      ),
    );
  }

  return {
    element,
    /** The chat as `GET /chats/:id` answers it. */
    setChat(chat) {
      // Don't overwrite what the user is typing.
      if (input.value === saved) show(chat);
    },
  };
}
