/**
 * Decides which fault, if any, a submitted job meets: first from its prompt's `submit=` directive
 * (counted per distinct prompt, so "the first N submits" holds across client retries), then from
 * the global `faultRate`.
 */

const RANDOM_FAULTS = ["submit429", "submit503", "fail", "webhookDrop"];

export function createFaultInjector(random = Math.random) {
  /** prompt text -> submits seen; only prompts carrying a `submit=` directive are counted */
  const submitsByPrompt = new Map();

  return {
    /**
     * @param {{prompt: string, directives: Record<string, any>}} request
     * @param {number} faultRate
     * @returns {{rejectWith: number | null, fault: "fail" | "webhookDrop" | null}}
     */
    onSubmit(request, faultRate) {
      const rule = request.directives.submit;
      if (rule) {
        const seen = (submitsByPrompt.get(request.prompt) ?? 0) + 1;
        submitsByPrompt.set(request.prompt, seen);
        if (seen <= rule.times) return { rejectWith: rule.status, fault: null };
      }
      if (faultRate > 0 && random() < faultRate) {
        const kind = RANDOM_FAULTS[Math.floor(random() * RANDOM_FAULTS.length)];
        if (kind === "submit429") return { rejectWith: 429, fault: null };
        if (kind === "submit503") return { rejectWith: 503, fault: null };
        return { rejectWith: null, fault: kind };
      }
      return { rejectWith: null, fault: null };
    },
    reset() {
      submitsByPrompt.clear();
    },
  };
}
