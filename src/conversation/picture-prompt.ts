/**
 * The image prompt of a picture in chat (`chat.picture`, `POST /chats/:id/pictures`): how the
 * character looks, then what to show. Pure: the caller reads the character and the messages.
 */

/** API.md: a generation prompt is 1..2000 characters. */
export const MAX_IMAGE_PROMPT_CHARS = 2000;
/** Each side of the last exchange kept for a scene prompt: the end of a long message is the scene. */
export const SCENE_MESSAGE_CHARS = 400;

/**
 * What a chat picture is rendered at: a portrait (512 x 768) at 20 steps, 2 credits
 * (`ceil(512 x 768 x 20 / (512 x 512 x 20))`), a third of a default 1024 x 1024 x 30 image.
 */
export const PICTURE_PARAMS = { width: 512, height: 768, steps: 20, guidance: 7 } as const;

export interface PictureSubject {
  name: string;
  appearance: string;
}

export interface SceneMessage {
  role: "user" | "assistant";
  content: string;
}

/** The last `max` characters of `text`, starting at a word where possible. */
function tail(text: string, max: number): string {
  const clean = text.replace(/\s+/g, " ").trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(clean.length - max);
  const space = cut.indexOf(" ");
  return (space > 0 && space < 40 ? cut.slice(space + 1) : cut).trim();
}

/**
 * The scene of the last exchange: the newest user message and the newest assistant reply
 * (each cut to its last SCENE_MESSAGE_CHARS characters), oldest first. Empty without one.
 */
export function lastExchange(messages: readonly SceneMessage[]): string {
  const newest = (role: SceneMessage["role"]) =>
    [...messages].reverse().find((m) => m.role === role && m.content.trim() !== "");
  return [newest("user"), newest("assistant")]
    .filter((m): m is SceneMessage => m !== undefined)
    .sort((a, b) => messages.indexOf(a) - messages.indexOf(b))
    .map((m) => tail(m.content, SCENE_MESSAGE_CHARS))
    .join(" ");
}

/**
 * `appearance` (or, when the card has none, the character's name), then the user's prompt or
 * else the scene; never empty and never past MAX_IMAGE_PROMPT_CHARS.
 *
 * @example
 * picturePrompt({ name: "Mira", appearance: "red hair, green cloak" }, "by the sea", "");
 * // "red hair, green cloak. by the sea"
 */
export function picturePrompt(subject: PictureSubject, prompt: string | undefined, scene: string): string {
  const who = subject.appearance.trim() || `A portrait of ${subject.name.trim() || "the character"}`;
  const what = (prompt ?? "").trim() || scene.trim();
  const text = what ? `${who.replace(/[\s.]+$/, "")}. ${what}` : who;
  return text.slice(0, MAX_IMAGE_PROMPT_CHARS).trim();
}
