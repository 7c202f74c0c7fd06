import { request } from "./api.js";
import { socket } from "./ws.js";

/**
 * Live state of generation jobs. Updates come from `generation.updated` socket frames; while the
 * socket is down, unfinished jobs are polled every 2 s instead, and after a reconnect they are
 * re-read once in case an update was missed.
 */

export const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 2000;
// Even with the socket up, re-read a job that has been silent this long (belt and braces).
const STALE_MS = 20_000;

/** @type {Map<string, {job: object, seenAt: number}>} */
const jobs = new Map();
const listeners = new Set();
let pollTimer = 0;

/**
 * Starts tracking `job` and returns it. Newer data never gets overwritten by older data.
 * @param {object} job
 */
export function track(job) {
  const known = jobs.get(job.id);
  if (known && rank(known.job.status) > rank(job.status)) return known.job;
  jobs.set(job.id, { job, seenAt: Date.now() });
  for (const listener of listeners) listener(job);
  ensurePolling();
  return job;
}

/** Latest known state of a job, if tracked. */
export function latest(id) {
  return jobs.get(id)?.job;
}

/**
 * Calls `listener(job)` on every change of any tracked job.
 * @returns {() => void} unsubscribe
 */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Asks the server to cancel; the answer (or a 409 meaning "already finished") updates the job. */
export async function cancel(id) {
  try {
    return track(await request(`/generations/${encodeURIComponent(id)}/cancel`, { method: "POST" }));
  } catch (error) {
    if (error.code === "conflict") await refresh(id).catch(() => {});
    throw error;
  }
}

async function refresh(id) {
  return track(await request(`/generations/${encodeURIComponent(id)}`));
}

// Statuses only move forward (queued -> running -> terminal); a late frame must not move one back.
function rank(status) {
  return TERMINAL.has(status) ? 2 : status === "running" ? 1 : 0;
}

function unfinished() {
  return [...jobs.values()].filter(({ job }) => !TERMINAL.has(job.status));
}

function ensurePolling() {
  if (pollTimer || unfinished().length === 0) return;
  pollTimer = setInterval(poll, POLL_MS);
}

async function poll() {
  const pending = unfinished();
  if (pending.length === 0) {
    clearInterval(pollTimer);
    pollTimer = 0;
    return;
  }
  const now = Date.now();
  const due = socket.online ? pending.filter(({ seenAt }) => now - seenAt > STALE_MS) : pending;
  await Promise.all(due.map(({ job }) => refresh(job.id).catch(() => {})));
}

socket.on("generation.updated", (frame) => {
  if (frame?.job?.id) track(frame.job);
});
socket.on("reconnect", () => {
  for (const { job } of unfinished()) refresh(job.id).catch(() => {});
});
