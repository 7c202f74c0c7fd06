// Reference for what one rate-limiter call costs: the bare hello-world Worker plus one
// Durable Object RPC per request on `/rpc`, shaped like the limiter's: the client's address
// named to one of 16 warm objects by the limiter's own `shardNameFor` (src/rate-limit/binding.ts),
// the same arguments (the key and the zone's rule with a lease wanted) and a result of the
// same shape. The object does only a counter's work, so the difference from `hello` is the
// call itself. bench/api/cpu.mjs and run.mjs serve it next to the bare worker.
import { DurableObject } from "cloudflare:workers";
import { shardNameFor } from "../../../src/rate-limit/binding";

interface Env {
  SHARD: DurableObjectNamespace<Shard>;
}

interface ConsumeRequest {
  zone: string;
  cost: number;
  ratePerS: number;
  burst: number;
  lease: number;
}

export class Shard extends DurableObject<Env> {
  private taken = 0;

  consume(_key: string, request: ConsumeRequest) {
    this.taken += request.cost + request.lease;
    return {
      allowed: true,
      limit: request.burst,
      remaining: 31,
      resetS: 1,
      retryAfterS: 0,
      leased: request.lease,
    };
  }
}

const REQUEST: ConsumeRequest = { zone: "api", cost: 1, ratePerS: 20, burst: 40, lease: 8 };
const ids = new Map<string, DurableObjectId>();

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/rpc") {
      const key = request.headers.get("CF-Connecting-IP") ?? "unknown";
      const name = shardNameFor(key, "DFW");
      let id = ids.get(name);
      if (!id) {
        id = env.SHARD.idFromName(name);
        ids.set(name, id);
      }
      const decision = await env.SHARD.get(id).consume(key, REQUEST);
      if (!decision.allowed) return new Response("limited", { status: 429 });
    }
    return new Response("hello", { headers: { "Content-Type": "text/plain" } });
  },
} satisfies ExportedHandler<Env>;
