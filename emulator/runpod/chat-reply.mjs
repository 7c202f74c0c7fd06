import { createHash } from "node:crypto";

const MIN_TOKENS = 8;
const MAX_TOKENS = 40;

const OPENERS = ["Ah,", "Hmm,", "Oh!", "Well,", "Listen,", "Heh,", "Mm,", "Truly,"];
const TEMPLATES = [
  (words) => `you speak of ${words}, and it stirs an old memory in me.`,
  (words) => `about ${words}? Sit closer and I shall tell you what I know.`,
  (words) => `few travelers dare to ask me about ${words} these days.`,
  (words) => `when you say ${words}, my heart beats a little faster.`,
  (words) => `I have dreamed of ${words} many times under the pale moon.`,
  (words) => `the thought of ${words} takes me back to the road that brought me here.`,
];
const FILLER = ["Tell", "me", "more,", "my", "friend,", "and", "stay", "a", "while."];

/**
 * A deterministic, in-character reply to the user's last message: an opener and a sentence that
 * mentions a few of its words, split into whitespace-led tokens (8..40, or exactly `tokens`).
 * @example
 * replyTokens("Tell me about the dragons of the north")
 * // => ["Hmm,", " few", " travelers", ..., " dragons", ...]
 * @param {string} userText the last user message, directives already removed
 * @param {number} [tokens] exact token count wanted
 * @returns {string[]}
 */
export function replyTokens(userText, tokens) {
  const digest = createHash("sha256").update(userText).digest();
  const words = keywords(userText);
  const mention = words.length > 0 ? joinWords(words) : "that";
  const sentence = `${OPENERS[digest[0] % OPENERS.length]} ${TEMPLATES[digest[1] % TEMPLATES.length](mention)}`;
  const natural = sentence.match(/\s*\S+/g) ?? [];
  const wanted = tokens ?? Math.min(MAX_TOKENS, Math.max(MIN_TOKENS, natural.length));
  const out = natural.slice(0, wanted);
  for (let i = 0; out.length < wanted; i++) out.push(` ${FILLER[i % FILLER.length]}`);
  return out;
}

const STOPWORDS = new Set(
  "about after again also been before being could does from have here just like make more much only please \
really should some tell than that their them then there these they this very want what when where which \
while will with would your".split(/\s+/),
);

/** The three longest distinct words of the message that carry meaning, in their original order. */
function keywords(text) {
  const candidates = [];
  for (const word of text.match(/[\p{L}\p{N}'-]+/gu) ?? []) {
    const lower = word.toLowerCase().slice(0, 24);
    if (lower.length < 4 || STOPWORDS.has(lower) || candidates.some((c) => c.word === lower)) continue;
    candidates.push({ word: lower, position: candidates.length });
  }
  return candidates
    .sort((a, b) => b.word.length - a.word.length || a.position - b.position)
    .slice(0, 3)
    .sort((a, b) => a.position - b.position)
    .map((candidate) => candidate.word);
}

function joinWords(words) {
  return words.length === 1 ? words[0] : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/**
 * Text of the last `user` message of an OpenAI `messages` array (string or text parts).
 * @returns {string | null} null when there is no user message
 */
export function lastUserText(messages) {
  const last = messages.findLast((message) => message?.role === "user");
  if (!last) return null;
  if (typeof last.content === "string") return last.content;
  if (Array.isArray(last.content)) {
    return last.content
      .filter((part) => part?.type === "text" && typeof part.text === "string")
      .map((part) => part.text)
      .join("\n");
  }
  return null;
}

/** Rough token count of the prompt, for `usage`. */
export function promptTokenCount(messages) {
  let count = 0;
  for (const message of messages) {
    const content =
      typeof message?.content === "string" ? message.content : JSON.stringify(message?.content ?? "");
    count += (content.match(/\S+/g) ?? []).length + 4;
  }
  return count;
}
