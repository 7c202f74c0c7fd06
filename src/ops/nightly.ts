import { loadConfig } from "../config";
import { runBackup } from "./backup/nightly";
import { reconcileSocketCounts } from "./sockets/reconcile";

/**
 * The 03:00 UTC cron: the database backup, then the socket-count reconciliation. Each is
 * logged on its own; a failure of one does not skip the other, and the cron run fails (so
 * Workers Logs shows it as an error) when either did.
 */
export async function nightlyMaintenance(
  env: Env,
  _ctx: ExecutionContext,
  controller?: ScheduledController,
): Promise<void> {
  const config = loadConfig(env);
  const at = new Date(controller?.scheduledTime ?? Date.now());
  const results = await Promise.allSettled([runBackup(env, config, at), reconcileSocketCounts(env)]);
  const failures = results.flatMap((result, i) =>
    result.status === "rejected"
      ? [{ task: i === 0 ? "backup" : "socket reconciliation", error: String(result.reason) }]
      : [],
  );
  for (const failure of failures)
    console.error(JSON.stringify({ level: "error", msg: "nightly task failed", ...failure }));
  if (failures.length > 0)
    throw new Error(`nightly maintenance: ${failures.map((f) => f.task).join(", ")} failed`);
}
