export const MAX_TAGS = 10;
export const MAX_TAG_LENGTH = 32;

/**
 * The part of a card's tags the `tags` column keeps: trimmed, 1..32 chars, the first
 * spelling of each tag compared case-insensitively, at most 10. The card's own list is
 * kept in the extras and comes back on export.
 *
 * @example normalizeTags([" Fantasy ", "fantasy", "", "x".repeat(33), "OC"]) // ["Fantasy", "OC"]
 */
export function normalizeTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim();
    const key = tag.toLowerCase();
    if (tag.length === 0 || tag.length > MAX_TAG_LENGTH || seen.has(key)) {
      continue;
    }
    seen.add(key);
    kept.push(tag);
    if (kept.length === MAX_TAGS) {
      break;
    }
  }
  return kept;
}
