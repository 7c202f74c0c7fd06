import { describe, expect, it } from "vitest";
import { imageCost } from "../../src/abuse/credits";
import {
  lastExchange,
  MAX_IMAGE_PROMPT_CHARS,
  PICTURE_PARAMS,
  picturePrompt,
  SCENE_MESSAGE_CHARS,
} from "../../src/conversation/picture-prompt";

const mira = { name: "Mira", appearance: "red hair, a green cloak." };

describe("picturePrompt", () => {
  it("starts with the appearance and adds the user's prompt", () => {
    expect(picturePrompt(mira, "  by the sea ", "ignored scene")).toBe("red hair, a green cloak. by the sea");
  });

  it("uses the scene without a prompt, and the appearance alone without either", () => {
    expect(picturePrompt(mira, undefined, "We climb the tower.")).toBe(
      "red hair, a green cloak. We climb the tower.",
    );
    expect(picturePrompt(mira, "   ", "")).toBe("red hair, a green cloak.");
  });

  it("names the character when the card has no appearance", () => {
    expect(picturePrompt({ name: "Mira", appearance: " " }, "at dawn", "")).toBe(
      "A portrait of Mira. at dawn",
    );
    expect(picturePrompt({ name: "", appearance: "" }, undefined, "")).toBe("A portrait of the character");
  });

  it("stays within the generation prompt limit with the longest appearance and prompt", () => {
    const prompt = picturePrompt({ name: "M", appearance: "a".repeat(1000) }, "b".repeat(1000), "");
    expect(prompt.length).toBe(MAX_IMAGE_PROMPT_CHARS);
    expect(prompt.startsWith("a".repeat(1000))).toBe(true);
  });
});

describe("lastExchange", () => {
  it("takes the newest user message and reply, oldest first, skipping empty ones", () => {
    const scene = lastExchange([
      { role: "assistant", content: "Greetings." },
      { role: "user", content: "Old question" },
      { role: "user", content: "Shall we sail?" },
      { role: "assistant", content: "Aye, at first light." },
      { role: "assistant", content: "" },
    ]);
    expect(scene).toBe("Shall we sail? Aye, at first light.");
  });

  it("keeps the end of a long message, from a word", () => {
    const long = `${"word ".repeat(200)}the harbour at night`;
    const scene = lastExchange([{ role: "user", content: long }]);
    expect(scene.length).toBeLessThanOrEqual(SCENE_MESSAGE_CHARS);
    expect(scene.endsWith("the harbour at night")).toBe(true);
    expect(scene.startsWith("word ")).toBe(true);
  });

  it("is empty for a chat without messages", () => {
    expect(lastExchange([])).toBe("");
  });
});

it("renders a chat picture as a 512 x 768 portrait at 20 steps, 2 credits", () => {
  expect(PICTURE_PARAMS).toMatchObject({ width: 512, height: 768, steps: 20 });
  expect(imageCost(PICTURE_PARAMS)).toBe(2);
});
