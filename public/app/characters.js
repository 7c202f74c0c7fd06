import { request } from "./api.js";

/**
 * Characters seen so far, by id, so chat lists and headers don't refetch what a list already gave us.
 */
const byId = new Map();

/** Remembers characters from any list response. */
export function remember(characters) {
  for (const character of characters) byId.set(character.id, character);
  return characters;
}

/**
 * @param {string} id
 * @returns {Promise<object>} the character (cached after the first call)
 */
export async function loadCharacter(id) {
  const cached = byId.get(id);
  if (cached) return cached;
  const character = await request(`/characters/${encodeURIComponent(id)}`);
  byId.set(id, character);
  return character;
}

export function cachedCharacter(id) {
  return byId.get(id);
}
