import { getUser, request, requestBlob, storeUser } from "../api.js";
import { deleteEverything, deviceName, flash, signOut, signOutLocally } from "../auth.js";
import { choose } from "../components/dialog.js";
import { passkeyCard, passkeyList } from "../components/passkey-list.js";
import { h, icon, replace } from "../dom.js";
import { timeAgo } from "../format.js";
import { notify, notifyError } from "../notify.js";

/**
 * `/settings` — the person's account: saving it with a passkey (guests), profile and persona,
 * signed-in devices, passkeys, and their data (export, delete).
 */
export function settingsView() {
  const user = getUser();
  const element = h(
    "div",
    { class: "page page--narrow settings", "data-testid": "settings" },
    h(
      "header",
      { class: "page__head" },
      h(
        "div",
        {},
        h("h1", {}, "Settings"),
        h(
          "p",
          { class: "lede", "data-testid": "account-kind" },
          user?.kind === "account"
            ? "Your account is saved with a passkey: sign in with it on any device."
            : "You're a guest: your chats live only in this browser until you add a passkey.",
        ),
      ),
    ),
    passkeyCard(user),
    profileSection(user),
    sessionsSection(),
    user?.kind === "account" ? passkeyList() : null,
    dataSection(),
  );
  return { element, title: "Settings" };
}

function profileSection(user) {
  const status = h("p", { class: "field__hint", role: "status" });
  const displayName = h("input", {
    id: "settings-display-name",
    class: "input",
    name: "display_name",
    maxlength: 40,
    required: true,
    value: user?.display_name ?? "",
    "data-testid": "display-name",
  });
  const personaName = h("input", {
    id: "settings-persona-name",
    class: "input",
    name: "persona_name",
    maxlength: 40,
    value: user?.persona?.name ?? "",
    "data-testid": "persona-name",
  });
  const personaDescription = h("textarea", {
    id: "settings-persona-description",
    class: "input",
    name: "persona_description",
    rows: 3,
    maxlength: 2000,
    "data-testid": "persona-description",
  });
  personaDescription.value = user?.persona?.description ?? "";
  const save = h(
    "button",
    { type: "submit", class: "btn btn--primary", "data-testid": "save-profile" },
    "Save",
  );

  const form = h(
    "form",
    {
      class: "card settings__card",
      "data-testid": "profile-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const name = personaName.value.trim();
        const body = {
          display_name: displayName.value.trim(),
          // No persona name means no persona: characters then call you by your display name.
          persona: name ? { name, description: personaDescription.value.trim() } : null,
        };
        save.disabled = true;
        status.textContent = "Saving…";
        try {
          const result = await request("/me", { method: "PATCH", body });
          storeUser(result?.user ?? result);
          status.textContent = "Saved.";
        } catch (error) {
          status.textContent = "";
          notifyError(error);
        } finally {
          save.disabled = false;
        }
      },
    },
    field("settings-display-name", "Display name", displayName, "Shown on characters you share."),
    h(
      "fieldset",
      { class: "settings__persona" },
      h("legend", { class: "field__label" }, "Persona"),
      h(
        "p",
        { class: "field__hint settings__hint" },
        "Who you are in your chats: characters call you by this name and know the description. Leave the name empty for none.",
      ),
      field("settings-persona-name", "Name", personaName),
      field("settings-persona-description", "Description", personaDescription),
    ),
    h("div", { class: "settings__actions" }, status, save),
  );
  return section("Profile", "users", form);
}

function sessionsSection() {
  const list = h("ul", { class: "settings__list", "data-testid": "session-list", "aria-busy": "true" });
  const load = async () => {
    list.setAttribute("aria-busy", "true");
    try {
      const { items } = await request("/me/sessions");
      replace(
        list,
        items.length
          ? items.map((session) => sessionRow(session, load))
          : h("li", { class: "empty" }, "No signed-in devices."),
      );
    } catch (error) {
      replace(list, h("li", { class: "empty" }, error.message));
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  };
  load();
  return section(
    "Signed-in devices",
    "clock",
    h(
      "p",
      { class: "muted settings__hint" },
      "Sign out a device you don't recognise; it loses access at once.",
    ),
    list,
  );
}

function sessionRow(session, reload) {
  const revoke = async () => {
    if (session.current) {
      const sure = await choose({
        title: "Sign out of this device?",
        body:
          getUser()?.kind === "account"
            ? "You can sign back in with your passkey."
            : "You're a guest without a passkey: your chats can't be recovered after this.",
        actions: [{ label: "Sign out", value: true, tone: "danger", testid: "confirm-sign-out" }],
      });
      if (sure) await signOutHere();
      return;
    }
    try {
      await request(`/me/sessions/${encodeURIComponent(session.id)}`, { method: "DELETE" });
      notify("That device was signed out.", { tone: "success" });
      reload();
    } catch (error) {
      notifyError(error);
    }
  };
  return h(
    "li",
    { class: "settings__row", "data-testid": "session", "data-current": session.current ? "true" : "false" },
    h(
      "div",
      { class: "settings__row-main" },
      h(
        "p",
        { class: "settings__row-title" },
        session.user_agent ? deviceName(session.user_agent) : "Unknown device",
        session.current
          ? h("span", { class: "badge", "data-testid": "current-session" }, "This device")
          : null,
      ),
      h(
        "p",
        { class: "muted settings__row-meta" },
        `Signed in ${timeAgo(session.created_at)} · last active ${timeAgo(session.last_used_at ?? session.created_at)}`,
      ),
    ),
    h(
      "button",
      {
        type: "button",
        class: "btn btn--secondary btn--sm",
        "data-testid": "revoke-session",
        onclick: revoke,
      },
      "Sign out",
    ),
  );
}

async function signOutHere() {
  if (getUser()?.kind === "account") {
    await signOut();
    return;
  }
  // A guest has no way back in: drop the session and start over as a new guest.
  await request("/auth/logout", { method: "POST", renew: false }).catch(() => {});
  signOutLocally("signed-out");
}

function dataSection() {
  const exportButton = h(
    "button",
    {
      type: "button",
      class: "btn btn--secondary",
      "data-testid": "export-data",
      onclick: () => exportData(exportButton),
    },
    icon("download"),
    "Export my data",
  );
  const deleteButton = h(
    "button",
    { type: "button", class: "btn btn--danger", "data-testid": "delete-data", onclick: confirmDelete },
    icon("trash"),
    "Delete my data",
  );
  return section(
    "Your data",
    "download",
    h(
      "div",
      { class: "card settings__card" },
      h(
        "p",
        { class: "settings__hint" },
        "Export downloads everything you own here — characters, chats, messages and images — one record a line (NDJSON).",
      ),
      h(
        "p",
        { class: "settings__hint" },
        "Deleting removes all of it for good, stored images included, and signs out every device.",
      ),
      h("div", { class: "settings__actions" }, exportButton, deleteButton),
    ),
  );
}

async function exportData(button) {
  button.disabled = true;
  try {
    const blob = await requestBlob("/api/v1/me/export");
    const url = URL.createObjectURL(blob);
    const link = h("a", {
      href: url,
      download: `edge-art-export-${new Date().toISOString().slice(0, 10)}.ndjson`,
      hidden: true,
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    notifyError(error);
  } finally {
    button.disabled = false;
  }
}

async function confirmDelete() {
  const sure = await choose({
    title: "Delete all your data?",
    body: "Your characters, chats, messages, images, passkeys and sessions are deleted for good. This can't be undone.",
    testid: "delete-dialog",
    actions: [{ label: "Delete everything", value: true, tone: "danger", testid: "confirm-delete" }],
  });
  if (!sure) return;
  try {
    await deleteEverything();
    flash("Your data was deleted. You're starting fresh as a guest.");
    location.assign("/");
  } catch (error) {
    notifyError(error);
  }
}

function section(title, iconName, ...children) {
  return h(
    "section",
    { class: "section" },
    h("h2", { class: "section__title" }, icon(iconName), title),
    children,
  );
}

function field(id, label, control, hint) {
  return h(
    "div",
    { class: "field" },
    h("label", { class: "field__label", for: id }, label),
    control,
    hint ? h("p", { class: "field__hint" }, hint) : null,
  );
}
