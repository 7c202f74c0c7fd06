// What the edge adds to every request a Worker receives, for the API benchmarks' load:
// the client's address (`CF-Connecting-IP`, one of the first `n` of 10.0.0.0/8, at random) and
// the request's `CF-Ray` (`<16 hex>-<location>`). `wrangler dev` adds neither; the service
// keys its rate limits by the first and files the isolate's leased tokens under the location
// at the end of the second (src/rate-limit/location.ts). DFW is the `cf.colo` Miniflare gives
// every request when it cannot fetch the real `cf` (offline, as here), so both name one location.

const LOCATION = "DFW";
let rays = 0;

/** A random address of the first `n` of 10.0.0.0/8. */
export function randomAddress(n) {
  const i = Math.floor(Math.random() * n);
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** The edge's headers for one request from one of `addresses` clients. */
export function edgeHeaders(addresses) {
  rays += 1;
  return {
    "cf-connecting-ip": randomAddress(addresses),
    "cf-ray": `${rays.toString(16).padStart(16, "0")}-${LOCATION}`,
  };
}
