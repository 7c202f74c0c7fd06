import { creditDay } from "../../abuse/credits";
import type { Config } from "../../config";
import type { JobStatus } from "../../db/models";
import type { Repository } from "../../db/repository";
import type { ZoneCounts } from "../../rate-limit/protocol";
import { rateLimitRejections } from "../../rate-limit/stats";
import { describeError, log } from "../log";
import { openSocketTotals } from "../sockets/report";

/** `GET /api/v1/admin/stats`: live figures, each read on its own so one failing source leaves the rest. */
export interface AdminStats {
  generated_at: string;
  jobs: {
    by_status: Record<JobStatus, number>;
    /** Jobs in `queued`: waiting for their queue message to be consumed (or for the sweep to resend it). */
    waiting_in_queue: number;
    /** Age of the oldest queued job: how far behind the queue is. */
    oldest_queued_age_s: number | null;
    dead_lettered: number;
  } | null;
  sockets: { open: number; users: number } | null;
  rate_limit: { rejections: ZoneCounts; lag_s: number } | null;
  /** Credits spent per UTC day (the last 7, newest first) and today's top spenders. */
  credits: {
    by_day: { day: string; credits: number; users: number }[];
    top_spenders: { user_id: string; used: number }[];
  } | null;
  database: { backend: Config["DB_BACKEND"]; ok: boolean; latency_ms: number | null };
  /** Sections that could not be read this time (their value above is null). */
  unavailable: string[];
}

/** Rejections reach the global counter in batches every 5 s (src/rate-limit/README.md). */
const RATE_LIMIT_LAG_S = 5;

async function jobFigures(repo: Repository, now: number): Promise<NonNullable<AdminStats["jobs"]>> {
  const [byStatus, queue] = await Promise.all([repo.jobs.countByStatus(), repo.jobs.queueFigures()]);
  const oldest = queue.oldestQueuedAt ? Date.parse(queue.oldestQueuedAt) : Number.NaN;
  return {
    by_status: byStatus,
    waiting_in_queue: byStatus.queued,
    oldest_queued_age_s: Number.isFinite(oldest) ? Math.max(0, Math.round((now - oldest) / 1000)) : null,
    dead_lettered: queue.deadLettered,
  };
}

/** Days of spend shown, and how many of today's spenders. */
const SPEND_DAYS = 7;
const TOP_SPENDERS = 10;

async function creditFigures(repo: Repository, now: number): Promise<NonNullable<AdminStats["credits"]>> {
  const since = creditDay(now - (SPEND_DAYS - 1) * 86_400_000);
  const [byDay, top] = await Promise.all([
    repo.credits.spendByDay(since),
    repo.credits.topSpenders(creditDay(now), TOP_SPENDERS),
  ]);
  return { by_day: byDay, top_spenders: top };
}

async function databaseHealth(
  repo: Repository,
  config: Pick<Config, "DB_BACKEND">,
): Promise<AdminStats["database"]> {
  const started = Date.now();
  try {
    await repo.ping();
    return { backend: config.DB_BACKEND, ok: true, latency_ms: Date.now() - started };
  } catch (error) {
    log.error("admin stats: database ping failed", { error: describeError(error) });
    return { backend: config.DB_BACKEND, ok: false, latency_ms: null };
  }
}

/**
 * Collects the operators' view: jobs by status, queued and dead-lettered jobs, open sockets
 * (the `SessionStats` counter), rate-limit rejections per zone (the limiter's global stats
 * instance) and a database ping. Sources are read concurrently.
 *
 * @example
 * const stats = await collectStats(c.env, c.var.services.repo, c.var.services.config);
 */
export async function collectStats(
  env: Env,
  repo: Repository,
  config: Pick<Config, "DB_BACKEND">,
  now = Date.now(),
) {
  const [database, jobs, sockets, rejections, credits] = await Promise.all([
    databaseHealth(repo, config),
    settle("jobs", () => jobFigures(repo, now)),
    settle("sockets", () => openSocketTotals(env)),
    settle("rate_limit", () => rateLimitRejections(env)),
    settle("credits", () => creditFigures(repo, now)),
  ]);
  const stats: AdminStats = {
    generated_at: new Date(now).toISOString(),
    jobs: jobs.value,
    sockets: sockets.value ? { open: sockets.value.open, users: sockets.value.users } : null,
    rate_limit: rejections.value ? { rejections: rejections.value, lag_s: RATE_LIMIT_LAG_S } : null,
    credits: credits.value,
    database,
    unavailable: [jobs, sockets, rejections, credits].filter((s) => s.value === null).map((s) => s.section),
  };
  return stats;
}

async function settle<T>(
  section: string,
  read: () => Promise<T>,
): Promise<{ section: string; value: T | null }> {
  try {
    return { section, value: await read() };
  } catch (error) {
    log.error("admin stats: a source failed", { section, error: describeError(error) });
    return { section, value: null };
  }
}
