import { isLocationCode } from "./binding";

/**
 * The location an isolate's lease table files a request under: the end of `CF-Ray`
 * (`<ray id>-<location>`, which Cloudflare sets on every request it proxies) when the request
 * carries one, else `request.cf.colo` (`cf` is only read then).
 *
 * Why not always `cf.colo`: reading `request.cf` makes workerd parse the request's whole `cf`
 * object, ~30 fields, about 2.9 KB of garbage per request (bench/api/RESULTS-session9.md), and a
 * request answered from a leased token needs nothing else of it. The shard a lease comes from is
 * still named by `cf.colo`, read only when the shard is asked (src/rate-limit/middleware.ts).
 *
 * A `CF-Ray` that disagrees with `cf.colo` (possible only where Cloudflare does not set it, as
 * under `wrangler dev`) cannot admit more: it only chooses which of this isolate's entries for
 * the client a token is spent from, and every token in every entry was taken from the client's
 * bucket by the shard that `cf.colo` named when it was leased. Changing it per request only costs
 * the client more shard calls. On the edge both name the same location.
 *
 * @example
 * leaseLocation(request) // "FRA" for "CF-Ray: 8f1c2d3e4a5b6c7d-FRA", whatever request.cf holds
 */
export function leaseLocation(request: Pick<Request, "headers" | "cf">): unknown {
  const ray = request.headers.get("CF-Ray");
  if (ray) {
    const dash = ray.lastIndexOf("-");
    const location = ray.slice(dash + 1);
    if (dash > 0 && isLocationCode(location)) return location;
  }
  return request.cf?.colo;
}
