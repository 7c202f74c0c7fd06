import { allowances, creditDay, REPLY_COST, secondsToReset } from "../abuse/credits";
import type { Config } from "../config";
import type { Repository } from "../db/repository";

/** A model reply's charge: paid (with a way to take it back), or refused by the allowance. */
export type TurnCharge =
  | { paid: true; refund: () => Promise<void> }
  | { paid: false; retryAfterS: number; detail: string };

/**
 * Charges one model reply (send, regenerate, continue) to today's allowance, in one guarded
 * statement on a connection of its own. `refund` takes it back when the turn is then refused
 * before anything is stored (a chat that is not the user's), so a refused turn changes no row.
 *
 * @example
 * const charge = await chargeTurn(() => openRepository(env, config), config, userId, Date.now());
 * if (!charge.paid) refuse("budget_exhausted", charge.detail, charge.retryAfterS);
 */
export async function chargeTurn(
  openRepo: () => Repository,
  config: Pick<Config, "DAILY_CREDITS_GUEST" | "DAILY_CREDITS_ACCOUNT">,
  userId: string,
  nowMs: number,
): Promise<TurnCharge> {
  const day = creditDay(nowMs);
  const repo = openRepo();
  try {
    const used = await repo.credits.charge(userId, day, REPLY_COST, allowances(config));
    if (used === null) {
      const retryAfterS = secondsToReset(nowMs);
      return {
        paid: false,
        retryAfterS,
        detail: `Today's credits are used up; they reset at 00:00 UTC, in ${retryAfterS} s.`,
      };
    }
  } finally {
    await repo.sql.close().catch(() => {});
  }
  return {
    paid: true,
    refund: async () => {
      const again = openRepo();
      try {
        await again.credits.uncharge(userId, day, REPLY_COST);
      } finally {
        await again.sql.close().catch(() => {});
      }
    },
  };
}
