/**
 * Loads a target in windows until it is warm: until one window's figure (`measure(windowS)`:
 * CPU per request, or throughput) is within `tolerance` of the window before, after at least
 * `minS` and at most `maxS` seconds. A Worker's isolate keeps getting cheaper for tens of
 * thousands of requests (V8 tiers its hot functions up, the heap settles): measured in the
 * worker process, the service's cached read went from 1.35 to 0.65-0.72 ms of workerd CPU per
 * request over its first ~40 s at 10 connections, hello-world from 0.33 to 0.27 ms within 10 s.
 * A round taken before that measures the warm-up, not the code; an isolate on the edge serves
 * far more requests than that. Returns the windows' figures, for the report.
 */
export async function warmUntilSteady(measure, { windowS = 4, minS = 8, maxS = 48, tolerance = 0.05 } = {}) {
  const figures = [];
  for (let elapsed = 0; elapsed < maxS; elapsed += windowS) {
    figures.push(await measure(windowS));
    const [before, last] = figures.slice(-2);
    if (figures.length >= 2 && elapsed + windowS >= minS && Math.abs(last - before) <= tolerance * before)
      break;
  }
  return figures;
}
