import { ensureSession } from "./api.js";
import { signedOutReason, takeFlash } from "./auth.js";
import { mountCreditsBadge } from "./components/credits-badge.js";
import { mountAccountLink } from "./components/passkey-cta.js";
import { h, replace } from "./dom.js";
import { notify } from "./notify.js";
import { Router } from "./router.js";
import { characterView } from "./views/character.js";
import { characterEditView } from "./views/character-edit.js";
import { charactersView } from "./views/characters.js";
import { chatView } from "./views/chat.js";
import { chatsView } from "./views/chats.js";
import { galleryView } from "./views/gallery.js";
import { generateView } from "./views/generate.js";
import { notFoundView } from "./views/not-found.js";
import { settingsView } from "./views/settings.js";
import { signedOutView } from "./views/signed-out.js";
import { socket } from "./ws.js";

/** Boots the client: a guest session first, then the socket and the router. */

const outlet = document.getElementById("main");
const statusEl = document.querySelector("[data-testid='connection-status']");

const STATUS_TEXT = { online: "Live", connecting: "Connecting…", offline: "Offline" };

function showStatus(status) {
  statusEl.dataset.state = status;
  statusEl.querySelector(".conn__text").textContent = STATUS_TEXT[status] ?? status;
  statusEl.title =
    status === "online" ? "Connected — replies and image updates arrive live" : "Not connected — retrying";
}

function markActiveNav(path) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    const section = link.dataset.nav;
    const active =
      section === "/"
        ? path === "/" || path.startsWith("/characters")
        : path === section || path.startsWith(`${section}/`);
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const [section = "", detail] = path.split("/").filter(Boolean);
  document.body.dataset.route = `${section || "home"}${detail ? "-detail" : ""}`;
}

/** An account whose session is gone sees only the way back in (see auth.js). */
function showSignedOut(reason) {
  socket.stop();
  const view = signedOutView(reason);
  outlet.replaceChildren(view.element);
  document.title = `${view.title} · Edge Art`;
  document.body.dataset.session = "signed-out";
}

async function boot() {
  let session;
  try {
    session = await ensureSession();
    mountCreditsBadge(document.querySelector(".topbar") ?? document.body);
  } catch (error) {
    replace(
      outlet,
      h(
        "div",
        { class: "page page--narrow page--center", "data-testid": "boot-error" },
        h("h1", {}, "We couldn't start your session"),
        h("p", { class: "lede" }, error.message),
        h(
          "button",
          { type: "button", class: "btn btn--primary", onclick: () => location.reload() },
          "Try again",
        ),
      ),
    );
    return;
  }
  mountAccountLink(document.getElementById("account-slot"));
  window.addEventListener("edge-art:signed-out", (event) => showSignedOut(event.detail));
  const flashed = takeFlash();
  if (flashed) notify(flashed, { tone: "success", timeout: 8000 });
  if (session.signedOut) {
    showSignedOut(signedOutReason());
    return;
  }
  document.body.dataset.session = "ready";

  socket.on("status", showStatus);
  // Each view reloads what failed meanwhile (see `whileShown(..., "reconnect")`); say it's over.
  socket.on("reconnect", () => notify("You're back online.", { tone: "success", timeout: 4000 }));
  showStatus(socket.status);
  socket.start();

  const router = new Router(outlet, { fallback: notFoundView, onChange: markActiveNav });
  const context = { navigate: (path) => router.navigate(path) };
  const bind = (view) => (params, query) => view(params, query, context);
  router
    .add("/", bind(charactersView))
    .add("/characters/:id", bind(characterView))
    .add("/characters/:id/edit", bind(characterEditView))
    .add("/chats", bind(chatsView))
    .add("/chats/:id", bind(chatView))
    .add("/generate", bind(generateView))
    .add("/gallery", bind(galleryView))
    .add("/settings", bind(settingsView))
    .start();

  // A handle for the end-to-end tests (e.g. to stop the socket and watch polling take over).
  window.edgeArt = { socket, router };
}

boot();
