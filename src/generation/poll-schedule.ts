import type { Config } from "../config";

/**
 * Delay before the n-th `/status` poll (n from 0): exponential from GENERATION_POLL_INITIAL_S,
 * capped at GENERATION_POLL_MAX_S. The defaults give 2, 4, 8, 16, 30, 30, ... seconds.
 *
 * @example
 * pollDelaySeconds(3, { GENERATION_POLL_INITIAL_S: 2, GENERATION_POLL_MAX_S: 30 }) // 16
 */
export function pollDelaySeconds(
  n: number,
  config: Pick<Config, "GENERATION_POLL_INITIAL_S" | "GENERATION_POLL_MAX_S">,
): number {
  const delay = config.GENERATION_POLL_INITIAL_S * 2 ** Math.min(n, 20);
  return Math.min(delay, config.GENERATION_POLL_MAX_S);
}

/** Redelivery delay after a transient failure on the message's `attempts`-th delivery: 5, 10, 20, 40, 60 s. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(5 * 2 ** Math.max(0, attempts - 1), 60);
}
