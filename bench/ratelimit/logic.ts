import { clientKey } from "../../src/rate-limit/client-ip";
import { parseConsumeRequest } from "../../src/rate-limit/protocol";
import { type Bucket, take } from "../../src/rate-limit/token-bucket";
import { type Zone, zoneRule } from "../../src/rate-limit/zones";

/**
 * CPU cost of the limiter's own logic per request, outside any runtime: parsing the client address, validating the RPC argument and the token bucket. Run on Node
 * by run.mjs (bundled with esbuild); workerd's clocks do not advance during execution.
 */
export function limiterLogicMicros(iterations: number): number {
  const headers = new Headers({ "CF-Connecting-IP": "203.0.113.77" });
  const rule = zoneRule({ RATE_API_PER_S: 1e9, RATE_API_BURST: 40 } as Parameters<typeof zoneRule>[0], "api");
  let bucket: Bucket | undefined;
  let checksum = 0;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    // Each route names its zone when it is defined: nothing left to choose per request.
    const zone: Zone = "api";
    const key = clientKey(headers, "CF-Connecting-IP");
    const request = parseConsumeRequest({ zone, cost: 1, ...rule });
    const next = take(bucket, request, request.cost, i);
    bucket = next.bucket;
    checksum += next.result.remaining + key.length;
  }
  const micros = ((performance.now() - t0) * 1000) / iterations;
  if (checksum === 0) throw new Error("unreachable: keeps the loop from being optimised away");
  return micros;
}
