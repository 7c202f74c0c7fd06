/**
 * The names `{{char}}` and `{{user}}` stand for in running text (greetings, prompts).
 *
 * `{{char}}` is the character's name without a title: cards and the sample characters often
 * write "Harlan Voss, Private Investigator", and "...Harlan Voss, Private Investigator nods"
 * reads wrong. The part before the first comma is the name, as the web client's `shortName`
 * already shows it; the full name stays the character's `name`.
 *
 * `{{user}}` is the user's display name once they chose one. A guest who did not is "you":
 * the generated "Guest 1a2b3c" is an id, not a name ("Door's open, Guest bvy10y").
 */
export const UNNAMED_USER = "you";

/** The display name a guest gets when it gives none (identity/guest.ts). */
export function defaultGuestName(userId: string): string {
  return `Guest ${userId.slice(-6)}`;
}

/**
 * @example
 * characterCallName("Harlan Voss, Private Investigator") // "Harlan Voss"
 * characterCallName("Sir Thistlewick the Bold (Hedgehog)") // unchanged
 */
export function characterCallName(name: string): string {
  return name.split(/,\s+/)[0]?.trim() || name;
}

/**
 * @example
 * userCallName({ id: "usr_...1a2b3c", display_name: "Guest 1a2b3c" }) // "you"
 * userCallName({ id: "usr_...1a2b3c", display_name: "Ann" }) // "Ann"
 */
export function userCallName(user: { id: string; display_name: string | null } | null | undefined): string {
  const name = user?.display_name?.trim();
  if (!user || !name || name === defaultGuestName(user.id)) return UNNAMED_USER;
  return name;
}
