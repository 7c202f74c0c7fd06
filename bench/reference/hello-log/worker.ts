// Reference for the request log's cost: the bare hello-world Worker plus exactly what
// src/ops/request-log.ts adds per request, a JSON line through console.log (`/log`) and,
// on `/log-metric`, also its Analytics Engine data point. bench/api/cpu.mjs compares them
// with the bare worker in the same process kind.
interface Env {
  METRICS: AnalyticsEngineDataset;
}

export default {
  fetch(request, env) {
    const started = Date.now();
    const { pathname } = new URL(request.url);
    const response = new Response("hello", { headers: { "Content-Type": "text/plain" } });
    if (pathname === "/log" || pathname === "/log-metric") {
      const line = {
        level: "info",
        msg: "request",
        request_id: crypto.randomUUID(),
        method: request.method,
        route: "/api/v1/characters/popular",
        path: pathname,
        status: 200,
        duration_ms: Date.now() - started,
        user_id: null,
        rate_limit: { zone: "api", allowed: true, remaining: 39 },
      };
      console.log(JSON.stringify(line));
      if (pathname === "/log-metric") {
        env.METRICS.writeDataPoint({
          indexes: ["request"],
          blobs: [line.route, line.method, "200", "api", "allowed"],
          doubles: [1, line.duration_ms, 200],
        });
      }
    }
    return response;
  },
} satisfies ExportedHandler<Env>;
