import type { Config } from "../config";
import type { GenerationParams } from "../db/models";
import { ApiError } from "../errors/api-error";
import { writeMetric } from "../ops/metrics";

/** One credit of image work (API.md): a 512 x 512 image at 20 steps. */
export const IMAGE_UNIT = { width: 512, height: 512, steps: 20 } as const;

/** What one model reply (send, regenerate, continue) costs. */
export const REPLY_COST = 1;

const DAY_MS = 86_400_000;

/**
 * Credits an image costs: pixels x steps in image units, rounded up.
 *
 * @example
 * imageCost({ width: 1024, height: 1024, steps: 30 }); // 6
 */
export function imageCost(params: Pick<GenerationParams, "width" | "height" | "steps">): number {
  const unit = IMAGE_UNIT.width * IMAGE_UNIT.height * IMAGE_UNIT.steps;
  return Math.max(1, Math.ceil((params.width * params.height * params.steps) / unit));
}

/** The UTC day a charge counts against, `YYYY-MM-DD`. */
export function creditDay(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/** The next UTC midnight, when every allowance starts afresh. */
export function resetsAt(nowMs: number): Date {
  return new Date((Math.floor(nowMs / DAY_MS) + 1) * DAY_MS);
}

/** Whole seconds until the next UTC midnight (at least 1): the `Retry-After` of `budget_exhausted`. */
export function secondsToReset(nowMs: number): number {
  return Math.max(1, Math.ceil((resetsAt(nowMs).getTime() - nowMs) / 1000));
}

/** The daily allowances by kind of user, from the config. */
export interface Allowances {
  guest: number;
  account: number;
}

export function allowances(
  config: Pick<Config, "DAILY_CREDITS_GUEST" | "DAILY_CREDITS_ACCOUNT">,
): Allowances {
  return { guest: config.DAILY_CREDITS_GUEST, account: config.DAILY_CREDITS_ACCOUNT };
}

/** The 429 of an allowance that cannot pay for a request. */
export function budgetExhausted(cost: number, nowMs: number): ApiError {
  const retryAfter = secondsToReset(nowMs);
  return new ApiError(
    429,
    "budget_exhausted",
    `Today's credits cannot pay for this (${cost} credit${cost === 1 ? "" : "s"}); they reset at 00:00 UTC, in ${retryAfter} s.`,
    { headers: { "Retry-After": String(retryAfter) } },
  );
}

/**
 * One `credits` data point: spend per day and top spenders come from
 * `SUM(_sample_interval * double2) ... GROUP BY blob4` (docs/operations.md, docs/abuse.md).
 */
export function countSpend(
  env: Partial<Pick<Env, "METRICS">>,
  what: "image" | "reply",
  outcome: "charged" | "refused",
  userId: string,
  credits: number,
): void {
  writeMetric(env, "credits", [what, outcome, userId], [1, credits]);
}
