import { sha256Hex } from "../../lib/crypto";
import type { GenerateBody } from "./schemas";

/**
 * SHA-256 (hex) of the validated body in a fixed field order, defaults applied: what an
 * `Idempotency-Key` is bound to. `{"prompt": "x"}` and `{"prompt": "x", "width": 1024}` are
 * the same request; an absent seed stays absent (it is drawn only for a new job).
 */
export async function requestHash(body: GenerateBody): Promise<string> {
  const canonical = JSON.stringify([
    body.prompt,
    body.negative_prompt,
    body.width,
    body.height,
    body.steps,
    body.seed ?? null,
    body.guidance,
    body.character_id ?? null,
  ]);
  return sha256Hex(canonical);
}
