// bench/api/aim-floor.mjs reads the API runs' per-round table and takes each reference's ratio to
// hello-world per round, then the median: the same reading run.mjs gives the service.
import { describe, expect, it } from "vitest";
import { perRoundRows, ratiosAgainstHello } from "../../bench/api/aim-floor.mjs";

const RUN = `# API benchmark

| spread | target | 2xx/s | p50 ms | p99 ms | non-2xx + errors (all rounds) |
|---|---|---:|---:|---:|---:|
| many | bare hello-world worker | 999 | 1 | 999 | 0 |

Per run:

| round | spread | target | 2xx/s | p50 ms | p99 ms | non-2xx | errors | load avg (1 min) before |
|---:|---|---|---:|---:|---:|---:|---:|---:|
| 1 | many | hello | 1000 | 90 | 200 | 0 | 0 | 2.0 |
| 1 | many | replay-assets | 800 | 110 | 240 | 0 | 0 | 2.0 |
| 1 | many | popular-after | 700 | 130 | 400 | 0 | 0 | 2.0 |
| 2 | many | popular-after | 900 | 100 | 260 | 0 | 0 | 2.0 |
| 2 | many | replay-assets | 450 | 200 | 400 | 0 | 0 | 2.0 |
| 2 | many | hello | 500 | 180 | 200 | 0 | 0 | 2.0 |
| 3 | many | hello | 1000 | 90 | 100 | 0 | 0 | 2.0 |
| 3 | many | replay-assets | 700 | 120 | 120 | 0 | 0 | 2.0 |
| 3 | many | popular-after | 800 | 110 | 300 | 0 | 0 | 2.0 |

Per equal-load run:

| round | spread | offered req/s | target | 2xx/s | p50 ms | p99 ms | non-2xx | errors |
|---:|---|---:|---|---:|---:|---:|---:|---:|
| 1 | many | 440 | hello | 440 | 3 | 74 | 0 | 0 |
`;

describe("aim-floor", () => {
  it("reads only the per-round rows, not the medians above them or the equal-load rows below", () => {
    const rows = perRoundRows(RUN);
    expect(rows).toHaveLength(9);
    expect(rows[0]).toEqual({ round: 1, spread: "many", target: "hello", rps: 1000, p99: 200 });
    expect(rows.some((r) => r.rps === 440 || r.rps === 999)).toBe(false);
  });

  it("takes each ratio against the same round's hello-world, then the median over rounds", () => {
    const ratios = ratiosAgainstHello(perRoundRows(RUN));
    // replay-assets: throughput 0.8, 0.9, 0.7 -> 0.8; p99 1.2, 2.0, 1.2 -> 1.2.
    expect(ratios.find((r) => r.target === "replay-assets")).toEqual({
      spread: "many",
      target: "replay-assets",
      throughput: 0.8,
      p99: 1.2,
    });
    // popular: throughput 0.7, 1.8, 0.8 -> 0.8; p99 2.0, 1.3, 3.0 -> 2.0.
    const popular = ratios.find((r) => r.target === "popular-after");
    expect(popular?.throughput).toBeCloseTo(0.8);
    expect(popular?.p99).toBeCloseTo(2.0);
  });

  it("gives nothing for a file without a per-round table", () => {
    expect(perRoundRows("# empty\n")).toEqual([]);
  });
});
