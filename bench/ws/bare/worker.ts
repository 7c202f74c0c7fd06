// The reference for the socket benchmark: the least a Worker can do to hold WebSockets the way
// the service does (one Durable Object per user, the Hibernation API, `ping` answered by the
// runtime), with none of the service's auth, database, routing or statistics. It answers the
// same URLs the benchmark uses, so the same client code runs against both.
import { DurableObject } from "cloudflare:workers";

interface BareEnv {
  BARE_SESSION: DurableObjectNamespace;
}

export class BareSession extends DurableObject<BareEnv> {
  constructor(ctx: DurableObjectState, env: BareEnv) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  override async fetch(): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(): void {}
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/api/v1/health":
        return Response.json({ status: "ok" });
      case "/api/v1/auth/guest":
        return Response.json({ token: crypto.randomUUID() }, { status: 201 });
      case "/api/v1/ws": {
        const token = url.searchParams.get("token");
        if (!token) return new Response(null, { status: 401 });
        return env.BARE_SESSION.get(env.BARE_SESSION.idFromName(token)).fetch(request);
      }
      default:
        return new Response(null, { status: 404 });
    }
  },
} satisfies ExportedHandler<BareEnv>;
