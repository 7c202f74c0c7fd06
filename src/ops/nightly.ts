import { sweepAccounts } from "../accounts/sweep";
import { type Config, loadConfig } from "../config";
import { openRepository } from "../db/repository";
import { openImageStore } from "../storage";
import { runBackup } from "./backup/nightly";
import { deleteIdleGuests } from "./idle-guests";
import { log } from "./log";
import { ensureNextChatPartition } from "./partitions";
import { reconcileSocketCounts } from "./sockets/reconcile";

/**
 * The 03:00 UTC cron: the database backup, next month's chat-history partition (PostgreSQL),
 * the socket-count reconciliation, the deletion of idle guests and the accounts sweep (expired
 * challenges, old sessions). They run side by side; a failure of one does not skip
 * the others, and the cron run fails (so Workers Logs shows it as an error) when any did.
 */
export async function nightlyMaintenance(
  env: Env,
  _ctx: ExecutionContext,
  controller?: ScheduledController,
): Promise<void> {
  const config = loadConfig(env);
  const at = new Date(controller?.scheduledTime ?? Date.now());
  const tasks: Record<string, () => Promise<unknown>> = {
    backup: () => runBackup(env, config, at),
    "chat partition": () => ensureNextChatPartition(env, config),
    "socket reconciliation": () => reconcileSocketCounts(env),
    // Idleness is measured against the clock, not the schedule: a cron replayed for an old
    // or future date must not delete guests who are active now.
    "idle guests": () => deleteIdleGuestsNow(env, config, new Date()),
    "accounts sweep": () => sweepAccountsNow(env, config, new Date()),
  };
  const names = Object.keys(tasks);
  const results = await Promise.allSettled(Object.values(tasks).map((task) => task()));
  const failures = results.flatMap((result, i) =>
    result.status === "rejected" ? [{ task: names[i] ?? "?", error: String(result.reason) }] : [],
  );
  for (const failure of failures) {
    log.error("nightly task failed", failure);
  }
  if (failures.length > 0)
    throw new Error(`nightly maintenance: ${failures.map((f) => f.task).join(", ")} failed`);
}

async function deleteIdleGuestsNow(env: Env, config: Config, at: Date): Promise<void> {
  const repo = openRepository(env, config);
  try {
    const deleted = await deleteIdleGuests({ repo, store: openImageStore(env, config), config }, at);
    log.info("idle guests deleted", { deleted });
  } finally {
    await repo.sql.close();
  }
}

async function sweepAccountsNow(env: Env, config: Config, at: Date): Promise<void> {
  const repo = openRepository(env, config);
  try {
    log.info("accounts swept", await sweepAccounts(repo.sql, at));
  } finally {
    await repo.sql.close();
  }
}
