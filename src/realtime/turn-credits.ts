import { allowances, creditDay, REPLY_COST, secondsToReset } from "../abuse/credits";
import type { Config } from "../config";
import type { Repository } from "../db/repository";
import { chargeWithStamp, type TurnStamp } from "./turn-stamp";

/**
 * A kept context's stamp (`turn-stamp.ts`), asked for by the turn's start before the charge
 * runs: the charge's statement then returns it too. Settles once the charge has: with the
 * stamp, or rejected when the turn was not paid (the start's result is then not used).
 */
export class StampRequest {
  chatId: string | null = null;
  readonly stamp: Promise<TurnStamp | null>;
  resolve!: (stamp: TurnStamp | null) => void;
  reject!: (reason: unknown) => void;

  constructor() {
    this.stamp = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.stamp.catch(() => {});
  }

  /** The stamp of `chatId`, read with the charge. */
  ask(chatId: string): Promise<TurnStamp | null> {
    this.chatId = chatId;
    return this.stamp;
  }
}

/** A model reply's charge: paid (with a way to take it back), or refused by the allowance. */
export type TurnCharge =
  | { paid: true; refund: () => Promise<void> }
  | { paid: false; retryAfterS: number; detail: string };

/**
 * Charges one model reply (send, regenerate, continue) to today's allowance, in one guarded
 * statement on a connection of its own. `refund` takes it back when the turn is then refused
 * before anything is stored (a chat that is not the user's), so a refused turn changes no row.
 * Given a `stamp` request that was asked for a chat, the same statement reads its stamp.
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
  stamp?: StampRequest,
): Promise<TurnCharge> {
  const day = creditDay(nowMs);
  const repo = openRepo();
  try {
    let used: number | null;
    try {
      if (stamp?.chatId) {
        const charged = await chargeWithStamp(
          repo,
          userId,
          stamp.chatId,
          day,
          REPLY_COST,
          allowances(config),
        );
        used = charged?.used ?? null;
        if (charged) stamp.resolve(charged.stamp);
      } else {
        used = await repo.credits.charge(userId, day, REPLY_COST, allowances(config));
      }
    } catch (error) {
      stamp?.reject(error);
      throw error;
    }
    if (used === null) {
      stamp?.reject(new Error("The turn was not paid."));
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
