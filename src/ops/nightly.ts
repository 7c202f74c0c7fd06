import { loadConfig } from "../config";
import { runBackup } from "./backup/nightly";
import { log } from "./log";
import { ensureNextChatPartition } from "./partitions";
import { reconcileSocketCounts } from "./sockets/reconcile";

/**
 * The 03:00 UTC cron: the database backup, next month's chat-history partition (PostgreSQL)
 * and the socket-count reconciliation. They run side by side; a failure of one does not skip
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
