/**
 * Tracks every pending timer so that shutting the emulator down leaves nothing scheduled.
 * @example
 * const timers = createTimers();
 * const handle = timers.after(300, () => finish(job));
 * timers.cancel(handle);
 * timers.cancelAll();
 */
export function createTimers() {
  const pending = new Set();
  return {
    after(ms, callback) {
      const handle = setTimeout(() => {
        pending.delete(handle);
        callback();
      }, ms);
      handle.unref?.();
      pending.add(handle);
      return handle;
    },
    cancel(handle) {
      if (handle === undefined || handle === null) return;
      clearTimeout(handle);
      pending.delete(handle);
    },
    cancelAll() {
      for (const handle of pending) clearTimeout(handle);
      pending.clear();
    },
    get size() {
      return pending.size;
    },
  };
}
