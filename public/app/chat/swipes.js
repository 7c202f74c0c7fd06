import { request } from "../api.js";
import { choose } from "../components/dialog.js";
import { h, icon, replace } from "../dom.js";
import { notifyError } from "../notify.js";

/**
 * The tools on each stored message, as SillyTavern users expect them: edit in place and "delete
 * from here" on every message; on the last reply of the character also the alternatives
 * ("‹ 2/3 ›", where › past the last one asks for a new one), Regenerate and Continue.
 * The tools are disabled while a reply is being written (one reply at a time per chat).
 * @param {object} options
 * @param {string} options.chatId
 * @param {ReturnType<import("./message-log.js").messageLog>} options.log
 * @param {(type: "chat.regenerate" | "chat.continue") => void} options.onTurn starts a reply turn
 * @param {(messageId: string, index: number) => void} options.onSwipe selects an alternative
 */
export function messageTools({ chatId, log, onTurn, onSwipe }) {
  let busy = false;
  let refreshQueued = false;
  const path = (messageId) =>
    `/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(messageId)}`;

  const button = (label, testid, onclick, text = label) =>
    h(
      "button",
      {
        type: "button",
        class: "msg-tool",
        "aria-label": label,
        title: label,
        "data-testid": testid,
        disabled: busy,
        onclick,
      },
      text,
    );

  /** Called by the log for every stored message (before it is placed). */
  function decorate(el) {
    let tools = el.querySelector(".msg__tools");
    if (!tools) {
      tools = h("div", { class: "msg__tools", "data-testid": "message-tools" });
      el.querySelector(".bubble").append(tools);
      // Touch screens have no hover: a tap on a message shows its tools.
      el.addEventListener("click", () => {
        if (!matchMedia("(hover: none)").matches) return;
        for (const other of log.list.querySelectorAll(".msg.is-selected"))
          if (other !== el) other.classList.remove("is-selected");
        el.classList.add("is-selected");
      });
    }
    replace(
      tools,
      button("Edit", "edit-message", () => startEdit(el), "✎"),
      button("Delete from here", "delete-from-here", () => deleteFrom(el), icon("trash")),
    );
    queueRefresh();
  }

  function queueRefresh() {
    if (refreshQueued) return;
    refreshQueued = true;
    queueMicrotask(() => {
      refreshQueued = false;
      refresh();
    });
  }

  /** Puts the alternatives, Regenerate and Continue on the last stored reply only. */
  function refresh() {
    for (const old of log.list.querySelectorAll(".msg__swipes")) old.remove();
    const stored = log.list.querySelectorAll("[data-testid='message'][data-message-id]");
    const last = stored[stored.length - 1];
    if (last?.dataset.role !== "assistant" || last.dataset.state !== "complete") return;
    // A picture is the whole reply: nothing to regenerate or continue (the server refuses both).
    if (Number(last.dataset.attachments) > 0) return;
    const index = Number(last.dataset.swipeIndex ?? 0);
    const count = Number(last.dataset.swipeCount ?? 1);
    const id = last.dataset.messageId;
    const bar = h(
      "div",
      { class: "msg__swipes", "data-testid": "swipes" },
      button("Previous alternative", "swipe-prev", () => onSwipe(id, index - 1), "‹"),
      h(
        "span",
        { class: "msg__swipe-count", "data-testid": "swipe-count", "aria-live": "polite" },
        `${index + 1}/${count}`,
      ),
      // Past the last alternative, › asks for a new one, as in SillyTavern.
      button(
        index + 1 < count ? "Next alternative" : "New alternative",
        "swipe-next",
        () => (index + 1 < count ? onSwipe(id, index + 1) : onTurn("chat.regenerate")),
        "›",
      ),
      button("Regenerate", "regenerate", () => onTurn("chat.regenerate"), [
        "↻",
        h("span", { class: "msg-tool__text" }, "Regenerate"),
      ]),
      button("Continue", "continue", () => onTurn("chat.continue"), [
        "→",
        h("span", { class: "msg-tool__text" }, "Continue"),
      ]),
    );
    bar.querySelector("[data-testid='swipe-prev']").disabled = busy || index === 0;
    last.querySelector(".bubble").append(bar);
  }

  function startEdit(el) {
    if (busy || el.dataset.editing) return;
    el.dataset.editing = "true";
    const text = el.querySelector(".bubble__text");
    const shown = [...text.childNodes];
    const input = h("textarea", {
      class: "input msg__edit-input",
      "aria-label": "Edit message",
      "data-testid": "edit-input",
      rows: Math.min(12, Math.max(3, el.dataset.content.split("\n").length + 1)),
      maxlength: 4000,
      value: el.dataset.content,
    });
    const stop = () => {
      delete el.dataset.editing;
      replace(text, shown);
    };
    const save = async () => {
      const content = input.value.trim();
      if (!content || content === el.dataset.content) return stop();
      saveButton.disabled = true;
      try {
        const message = await request(path(el.dataset.messageId), { method: "PATCH", body: { content } });
        delete el.dataset.editing;
        log.persist(el, message);
      } catch (error) {
        saveButton.disabled = false;
        notifyError(error);
      }
    };
    const saveButton = h(
      "button",
      { type: "button", class: "btn btn--primary btn--sm", "data-testid": "edit-save", onclick: save },
      "Save",
    );
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        stop();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        save();
      }
    });
    replace(
      text,
      input,
      h(
        "div",
        { class: "msg__edit-actions" },
        h("button", { type: "button", class: "btn btn--ghost btn--sm", onclick: stop }, "Cancel"),
        saveButton,
      ),
    );
    input.focus();
  }

  async function deleteFrom(el) {
    if (busy) return;
    const all = [...log.list.querySelectorAll("[data-testid='message'][data-message-id]")];
    const later = all.length - all.indexOf(el) - 1;
    const confirmed = await choose({
      title: later > 0 ? "Delete this message and everything after it?" : "Delete this message?",
      body:
        later > 0
          ? `This message and the ${later} after it will be deleted for good.`
          : "It will be deleted for good.",
      actions: [{ label: "Delete", value: true, tone: "danger", testid: "confirm-delete" }],
      testid: "delete-dialog",
    });
    if (!confirmed) return;
    try {
      await request(path(el.dataset.messageId), { method: "DELETE" });
      log.removeFrom(el.dataset.messageId);
      refresh();
    } catch (error) {
      notifyError(error);
    }
  }

  return {
    decorate,
    refresh,
    /** While a reply is written, nothing else may change the chat. */
    setBusy(value) {
      busy = value;
      for (const el of log.list.querySelectorAll(".msg-tool")) el.disabled = value;
      if (!value) refresh();
    },
  };
}
