/** Credits in words (no imports: errors.js and the header badge both use it). */

/** @type {number | undefined} the daily limit last read from /me/usage */
let limit;

export function rememberLimit(value) {
  limit = value;
}

/** The daily limit last read (for error messages), if any. */
export function creditLimit() {
  return limit;
}

/**
 * How long until `resetsAt`, in words: "5 h 12 min", "12 min", "less than a minute".
 * @param {number} seconds
 */
export function describeWait(seconds) {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  if (minutes < 1) return "less than a minute";
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

/**
 * The sentence for an exhausted allowance.
 * @example
 * describeExhausted(100, 18720) // "You've used today's 100 credits; they reset in 5 h 12 min."
 * @param {number | undefined} limit
 * @param {number} secondsToReset
 */
export function describeExhausted(limit, secondsToReset) {
  const credits = limit ? `today's ${limit} credits` : "today's credits";
  return `You've used ${credits}; they reset in ${describeWait(secondsToReset)}.`;
}
