import http from "node:http";

/**
 * Open-loop load: request `i` is sent at `start + i / rate` whether or not earlier answers have
 * come back, and its latency runs from that scheduled moment to the end of its answer, so a
 * stall counts for every request it delays (no coordinated omission). autocannon's
 * `overallRate` cannot stand in for this: each of its connections sends its share of a second
 * back to back when the second starts, so every second opens with a burst, and a request
 * waiting for a busy connection is not counted as waiting.
 * `headers()` gives each request's headers; `onAnswer(ms, status)` hears each answer as it
 * ends. Resolves with the requests sent, the latencies (ms, sorted) of the answers, the 2xx
 * count, the non-2xx count and the errors.
 */
export async function pacedLoad(url, { rate, durationS, headers = () => ({}), onAnswer = () => {} }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const target = new URL(url);
  const total = Math.round(rate * durationS);
  const latencies = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const send = (scheduledMs) =>
    new Promise((resolve) => {
      const req = http.get(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          headers: headers(),
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const ms = performance.now() - scheduledMs;
            latencies.push(ms);
            onAnswer(ms, res.statusCode);
            if (res.statusCode >= 200 && res.statusCode < 300) ok += 1;
            else non2xx += 1;
            resolve();
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error("timeout")));
      req.on("error", () => {
        errors += 1;
        resolve();
      });
    });
  const start = performance.now();
  const inFlight = [];
  for (let i = 0; i < total; ) {
    const now = performance.now();
    // Every request whose moment has come, then sleep until the next one's.
    while (i < total && start + (i * 1000) / rate <= now) {
      inFlight.push(send(start + (i * 1000) / rate));
      i += 1;
    }
    const next = start + (i * 1000) / rate - performance.now();
    if (next > 0) await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - 0.5)));
  }
  await Promise.all(inFlight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { sent: total, latencies, ok, non2xx, errors, seconds: (performance.now() - start) / 1000 };
}
