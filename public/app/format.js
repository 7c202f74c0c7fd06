const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * "2 minutes ago" style text for an ISO time.
 * @example
 * timeAgo(new Date(Date.now() - 90_000).toISOString()) // "2 minutes ago"
 */
export function timeAgo(iso) {
  if (!iso) return "";
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const steps = [
    [60, "second"],
    [60, "minute"],
    [24, "hour"],
    [7, "day"],
    [4.35, "week"],
    [12, "month"],
    [Number.POSITIVE_INFINITY, "year"],
  ];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size)
      return unit === "second" && Math.abs(value) < 60
        ? "just now"
        : relative.format(Math.round(value), unit);
    value /= size;
  }
  return "";
}

const LIVE_TICK_MS = 20_000;
let liveTimer = 0;

/**
 * A `<time>` that says how long ago `iso` was and keeps saying it right while it is on the page
 * (one shared timer rewrites every such element).
 * @param {string} iso
 * @returns {HTMLTimeElement}
 */
export function liveTime(iso) {
  const time = document.createElement("time");
  time.dateTime = iso ?? "";
  time.title = fullTime(iso);
  time.dataset.live = "";
  time.textContent = timeAgo(iso);
  if (!liveTimer)
    liveTimer = setInterval(() => {
      for (const el of document.querySelectorAll("time[data-live]")) {
        const text = timeAgo(el.dateTime);
        if (el.textContent !== text) el.textContent = text;
      }
    }, LIVE_TICK_MS);
  return time;
}

const counts = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

/**
 * How many chats a character has had, written one way everywhere.
 * @example
 * chatCount(4410) // "4.4K chats"
 */
export function chatCount(count = 0) {
  return `${counts.format(count)} ${count === 1 ? "chat" : "chats"}`;
}

/** Full date and time, for `title`/`datetime` attributes. */
export function fullTime(iso) {
  return iso ? absolute.format(new Date(iso)) : "";
}

/** Up to two initials for an avatar placeholder. */
export function initials(name = "") {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return (words.length > 1 ? words[0][0] + words[1][0] : (words[0] ?? "?").slice(0, 2)).toUpperCase();
}

/** A stable hue (0..359) for an id, so placeholder avatars keep their colour. */
export function hueFor(id = "") {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash % 360;
}

/** Shortens text to `max` characters on a word boundary. */
export function excerpt(text = "", max = 140) {
  const clean = text.replace(/\s+/g, " ").trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max);
  return `${cut.slice(0, cut.lastIndexOf(" ") > max * 0.6 ? cut.lastIndexOf(" ") : max).trimEnd()}…`;
}

/**
 * The name a character goes by in running text: cards often append a title after a comma.
 * @example
 * shortName("Marrow Vell, Fogbound Apothecary") // "Marrow Vell"
 */
export function shortName(name = "") {
  return name.split(/,\s+/)[0].trim() || name;
}

/**
 * Fills the `{{char}}`/`{{user}}` placeholders Character Card V2 text uses.
 * @example
 * fillPlaceholders("Hi {{user}}, I'm {{char}}", "Seraphina, Forest Guardian") // "Hi you, I'm Seraphina"
 */
export function fillPlaceholders(text = "", charName = "", userName = "you") {
  return text.replace(/\{\{char\}\}/gi, shortName(charName)).replace(/\{\{user\}\}/gi, userName);
}
