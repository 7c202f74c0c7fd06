import type { Config } from "../config";
import { hmacHex } from "../lib/crypto";

export type ImageExtension = "png" | "jpg" | "webp";

/**
 * Storage keys look like `images/<40 hex>/<jobId>-<n>.<ext>`. The hex part is 160 bits of
 * HMAC(IMAGE_KEY_SECRET or JWT_SECRET, job id): unguessable without the secret, yet the same
 * on every retry of the same job, so a retried store overwrites its own objects instead of
 * writing a second image set.
 */
const KEY_PATTERN = /^images\/[0-9a-f]{40}\/[a-z]{2,8}_[0-9a-z]{26}-\d{1,2}\.(png|jpg|webp)$/;

/**
 * @example
 * await imageKey(config, "gen_01kdx...", 0, "png") // "images/3f9c.../gen_01kdx...-0.png"
 */
export async function imageKey(
  config: Pick<Config, "IMAGE_KEY_SECRET" | "JWT_SECRET">,
  jobId: string,
  index: number,
  extension: ImageExtension,
): Promise<string> {
  const token = await hmacHex(config.IMAGE_KEY_SECRET ?? config.JWT_SECRET, `image-key:${jobId}`, 20);
  return `images/${token}/${jobId}-${index}.${extension}`;
}

/** Whether `key` has the shape `imageKey` makes; checked before any storage call. */
export function isImageKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * The storage key of a character's own imported portrait (`imageKey(config, characterId, 0, ...)`,
 * stored by `POST /characters/import`), or null when `avatarUrl` points anywhere else. The key
 * must carry the character's own id: a URL copied from someone else's image never names a key
 * that deleting this character may remove.
 */
export function portraitKeyOf(characterId: string, avatarUrl: string | null): string | null {
  const key = avatarUrl?.match(/images\/[0-9a-f]{40}\/[^/?#]+$/)?.[0];
  return key && isImageKey(key) && key.includes(`/${characterId}-0.`) ? key : null;
}

/**
 * The public URL of a stored image. The path is the storage key itself, so the same URL
 * works on this Worker (`GET /images/...`) and on a CDN whose origin is the bucket:
 * IMAGE_CDN_BASE_URL, when set, replaces PUBLIC_BASE_URL as the origin.
 */
export function imageUrl(
  config: Pick<Config, "IMAGE_CDN_BASE_URL" | "PUBLIC_BASE_URL">,
  key: string,
): string {
  const origin = (config.IMAGE_CDN_BASE_URL ?? config.PUBLIC_BASE_URL).replace(/\/+$/, "");
  return `${origin}/${key}`;
}
