import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { ApiError } from "./errors/api-error";
import { problemResponse } from "./errors/problem";
import { requestId } from "./middleware/request-id";
import { services } from "./middleware/services";
import { requestLog } from "./ops/request-log";
import { rateLimit } from "./rate-limit/middleware";
import { admin } from "./routes/admin/index";
import { characterCards } from "./routes/characters/cards";
import { popularCharacters } from "./routes/characters/popular";
import { readCharacters } from "./routes/characters/read";
import { writeCharacters } from "./routes/characters/write";
import { createChat } from "./routes/chats/create";
import { deleteChat } from "./routes/chats/delete";
import { listChats } from "./routes/chats/list";
import { chatMessages } from "./routes/chats/messages";
import { readChat } from "./routes/chats/read";
import { cancelGeneration } from "./routes/generations/cancel";
import { createGeneration } from "./routes/generations/create";
import { readGenerations } from "./routes/generations/read";
import { guest } from "./routes/identity/guest";
import { me } from "./routes/identity/me";
import { images } from "./routes/images";
import { health } from "./routes/system/health";
import { openapi } from "./routes/system/openapi";
import { runpodWebhook } from "./routes/webhooks/runpod";
import { ws } from "./routes/ws";
import type { AppEnv } from "./types";

/** JSON bodies are small; the card import and RunPod webhook routes set their own limits. */
const JSON_BODY_LIMIT = 64 * 1024;
const jsonBodyLimit = bodyLimit({
  maxSize: JSON_BODY_LIMIT,
  onError: () => {
    throw ApiError.tooLarge(JSON_BODY_LIMIT);
  },
});

/** The Hono app: cross-cutting middleware, then every route of API.md under /api/v1. */
export function createApp() {
  const app = new Hono<AppEnv>();

  app.use("*", requestLog);
  app.use("*", requestId);
  app.use("*", secureHeaders({ crossOriginResourcePolicy: "cross-origin" }));
  app.use(
    "/api/*",
    cors({
      origin: "*",
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
      allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
      exposeHeaders: [
        "X-Request-Id",
        "Location",
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
      ],
      maxAge: 86400,
    }),
  );
  app.use("/api/*", rateLimit);
  app.use("/api/*", (c, next) =>
    c.req.path === "/api/v1/characters/import" || c.req.path.startsWith("/api/v1/webhooks/")
      ? next()
      : jsonBodyLimit(c, next),
  );
  app.use("*", services);

  const v1 = new Hono<AppEnv>()
    .route("/", health)
    .route("/", openapi)
    .route("/", guest)
    .route("/", me)
    .route("/", popularCharacters)
    .route("/", characterCards)
    .route("/", readCharacters)
    .route("/", writeCharacters)
    .route("/", createChat)
    .route("/", listChats)
    .route("/", readChat)
    .route("/", chatMessages)
    .route("/", deleteChat)
    .route("/", createGeneration)
    .route("/", readGenerations)
    .route("/", cancelGeneration)
    .route("/", runpodWebhook)
    .route("/", ws)
    .route("/", admin);
  app.route("/api/v1", v1);
  app.route("/", images);

  app.notFound((c) =>
    problemResponse(c, new ApiError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`)),
  );
  app.onError((err, c) => problemResponse(c, err));
  return app;
}
