// The load test's user models. Each is what one simulated user does and how long it waits
// between steps; `npm run loadtest -- --profile person,stress` runs both and reports each.
//
// person (the default) is a visitor as the old system's own tools modelled one: Locust users
// wait `between(1, 5)` s between tasks, and issue 15's chat aim has 10-30 s between chat
// turns (reading the reply, typing the next message). stress is the earlier scenario: every
// user runs every step back to back and waits 1 s between rounds, a script rather than a person,
// kept so the figures of both stay comparable and nothing is hidden.

/** A wait drawn uniformly from [min, max] ms. */
const between = (minS, maxS) => ({ min: minS * 1000, max: maxS * 1000 });

export const PROFILES = {
  person: {
    about:
      "a visitor: browse (list, popular, a character's card), open a chat and load its history, 2-4 chat turns, sometimes an image, then browse again",
    think: {
      /** After the character list and after the popular list: Locust's usual between(1, 5). */
      browse: between(1, 5),
      /** Reading a character's card before opening a chat with it. */
      card: between(3, 8),
      /** Reading the reply and typing the next message, before each chat turn (issue 15: 10-30 s). */
      typing: between(10, 30),
      /** Writing an image prompt. */
      prompt: between(3, 8),
      /** Looking at the picture and the gallery before browsing again. */
      gallery: between(5, 10),
    },
    /** Chat turns per visit to a chat, uniform over [min, max]. */
    turns: { min: 2, max: 4 },
    /** Share of chat visits followed by an image. */
    imageShare: 0.3,
  },
  stress: {
    about:
      "a script: every round runs all 8 API calls, a chat turn and an image back to back, then waits --think ms (default 1 000)",
  },
};

/** Human-readable think times of a profile, for the report. */
export function describeThink(profile) {
  const p = PROFILES[profile];
  if (!p.think) return null;
  const s = (w) => `${w.min / 1000}-${w.max / 1000} s`;
  return [
    `browse ${s(p.think.browse)} after the list and after popular`,
    `${s(p.think.card)} reading a card`,
    `${s(p.think.typing)} typing before each chat turn (${p.turns.min}-${p.turns.max} turns per chat)`,
    `${Math.round(p.imageShare * 100)} % of chats followed by an image: ${s(p.think.prompt)} writing the prompt, ${s(p.think.gallery)} looking at it`,
  ].join("; ");
}

/** A small seeded generator (mulberry32), so a user's waits are the same from run to run. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
