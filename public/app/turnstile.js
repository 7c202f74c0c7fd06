/**
 * The human check on guest creation (API.md, "Spend and abuse limits"): when
 * `GET /client-config` names a Turnstile site key, Cloudflare's widget script is loaded (only
 * then) and a token is obtained for `POST /auth/guest`; otherwise nothing happens.
 */

const SCRIPT_URL = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";

/** @type {Promise<void> | null} */
let scriptLoading = null;

function loadScript() {
  scriptLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = SCRIPT_URL;
    script.async = true;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error("The human check could not be loaded."));
    document.head.append(script);
  });
  return scriptLoading;
}

/**
 * A Turnstile token for guest creation, or undefined when the service asks for none.
 * @param {string} apiBase
 * @returns {Promise<string | undefined>}
 */
export async function turnstileToken(apiBase) {
  let siteKey = null;
  try {
    const response = await fetch(`${apiBase}/client-config`);
    if (response.ok) siteKey = (await response.json()).turnstile_site_key;
  } catch {
    return undefined;
  }
  if (!siteKey) return undefined;
  await loadScript();
  const box = document.createElement("div");
  box.className = "turnstile";
  box.dataset.testid = "turnstile";
  const note = document.createElement("p");
  note.textContent = "One moment: checking that you're a person.";
  box.append(note);
  document.body.append(box);
  try {
    return await new Promise((resolve, reject) => {
      // @ts-expect-error -- the global the script defines
      window.turnstile.render(box, {
        sitekey: siteKey,
        callback: (token) => resolve(token),
        "error-callback": () => reject(new Error("The human check failed; reload the page to try again.")),
      });
    });
  } finally {
    box.remove();
  }
}
