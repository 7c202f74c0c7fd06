import { OpenAPIHono } from "@hono/zod-openapi";
import { ApiError } from "./errors/api-error";
import { problemResponse } from "./errors/problem";
import { appShell, isAppPath } from "./http/app-shell";
import { routes } from "./http/route";
import { MemoRouter } from "./http/router";
import { frontDoor } from "./middleware/front-door";
import { admin } from "./routes/admin/index";
import { characterCards } from "./routes/characters/cards";
import { popularCharacters } from "./routes/characters/popular";
import { readCharacters } from "./routes/characters/read";
import { writeCharacters } from "./routes/characters/write";
import { chatContext } from "./routes/chats/context";
import { createChat } from "./routes/chats/create";
import { deleteChat } from "./routes/chats/delete";
import { deleteChatMessages } from "./routes/chats/delete-messages";
import { editChatMessage } from "./routes/chats/edit-message";
import { listChats } from "./routes/chats/list";
import { chatMessages } from "./routes/chats/messages";
import { chatPictures } from "./routes/chats/pictures";
import { readChat } from "./routes/chats/read";
import { chatFiles } from "./routes/chats/st-files";
import { messageSwipes } from "./routes/chats/swipes";
import { updateChat } from "./routes/chats/update";
import { cancelGeneration } from "./routes/generations/cancel";
import { createGeneration } from "./routes/generations/create";
import { readGenerations } from "./routes/generations/read";
import { guest } from "./routes/identity/guest";
import { me } from "./routes/identity/me";
import { passkeys } from "./routes/identity/passkeys";
import { sessions } from "./routes/identity/sessions";
import { usage } from "./routes/identity/usage";
import { images } from "./routes/images";
import { clientConfig } from "./routes/system/client-config";
import { health } from "./routes/system/health";
import { openapi } from "./routes/system/openapi";
import { runpodWebhook } from "./routes/webhooks/runpod";
import { ws } from "./routes/ws";
import { wsTicket } from "./routes/ws-ticket";
import type { AppEnv } from "./types";

/**
 * The Hono app: cross-cutting middleware, then every route of API.md under /api/v1. Each
 * route brings its own rate-limit zone, auth, body limit and validation (src/http/route.ts).
 */
export function createApp() {
  // Hono's router with each path's match remembered: the routes defeat its RegExpRouter (src/http/router.ts).
  const app = new OpenAPIHono<AppEnv>({ router: new MemoRouter() });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });

  // The request log, the request id, hono/secure-headers' policy with
  // `crossOriginResourcePolicy: "cross-origin"`, CORS on /api and the request's services, in
  // one middleware (src/middleware/front-door.ts). CORS writes its headers first (after the
  // handler) and copies a response with immutable headers (a WebSocket upgrade's 101) once,
  // so the secure headers find it mutable.
  app.use("*", frontDoor);

  const v1 = routes()
    .route("/", health)
    .route("/", openapi(app))
    .route("/", guest)
    .route("/", me)
    .route("/", sessions)
    .route("/", passkeys)
    .route("/", usage)
    .route("/", clientConfig)
    .route("/", popularCharacters)
    .route("/", characterCards)
    .route("/", readCharacters)
    .route("/", writeCharacters)
    .route("/", chatFiles)
    .route("/", createChat)
    .route("/", listChats)
    .route("/", readChat)
    .route("/", chatMessages)
    .route("/", deleteChat)
    .route("/", updateChat)
    .route("/", messageSwipes)
    .route("/", editChatMessage)
    .route("/", deleteChatMessages)
    .route("/", chatContext)
    .route("/", chatPictures)
    .route("/", createGeneration)
    .route("/", readGenerations)
    .route("/", cancelGeneration)
    .route("/", runpodWebhook)
    .route("/", wsTicket)
    .route("/", ws)
    .route("/", admin);
  app.route("/api/v1", v1);
  app.route("/", images);

  // No route, no limiter: the 404 costs less than the limiter's RPC would. Paths that are
  // no static file reach the Worker (wrangler.toml: no SPA fallback); the client's own paths
  // get its index.html, anything else a real 404.
  app.notFound((c) =>
    isAppPath(c.req.method, c.req.path)
      ? appShell(c)
      : problemResponse(c, new ApiError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`)),
  );
  app.onError((err, c) => problemResponse(c, err));
  return app;
}
