import { z } from "zod";
import { accountsOn } from "../../accounts/deps";
import { listSessions, revokeSession } from "../../accounts/refresh-tokens";
import { refresh } from "../../accounts/session-tokens";
import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { SignInResponse } from "./schemas";
import { closeSessionSockets } from "./sign-in";

const RefreshBody = z.object({ refresh_token: z.string().min(1).max(256) }).strict();

const refreshRoute = defineRoute({
  method: "post",
  path: "/auth/refresh",
  summary: "Trade a refresh token for a new pair (each works once; a reused one ends its session)",
  tags: ["identity"],
  zone: "api",
  request: { body: jsonRequest(RefreshBody) },
  responses: { 200: jsonResponse(SignInResponse, "A new access and refresh token") },
});

const logoutRoute = defineRoute({
  method: "post",
  path: "/auth/logout",
  summary: "End the caller's session: its refresh token stops and its sockets close",
  tags: ["identity"],
  zone: "api",
  auth: "user",
  responses: { 204: { description: "Signed out" } },
});

const SessionSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  last_used_at: z.string(),
  user_agent: z.string().nullable(),
  current: z.boolean(),
});

const listRoute = defineRoute({
  method: "get",
  path: "/me/sessions",
  summary: "The caller's live sessions",
  tags: ["identity"],
  zone: "api",
  auth: "user",
  responses: { 200: jsonResponse(z.object({ items: z.array(SessionSchema) }), "Sessions, newest first") },
});

const revokeRoute = defineRoute({
  method: "delete",
  path: "/me/sessions/{id}",
  summary: "End one of the caller's sessions (as logout, for that session)",
  tags: ["identity"],
  zone: "api",
  auth: "user",
  request: { params: z.object({ id: z.string().min(1).max(64) }) },
  responses: { 204: { description: "Ended" } },
});

export const sessions = routes()
  .openapi(refreshRoute, async (c) => {
    const { repo, config } = c.var.services;
    const now = new Date();
    const pair = await refresh(accountsOn(repo.sql, config).tokens, c.req.valid("json").refresh_token, now);
    await repo.users.touch(pair.user_id, now.toISOString());
    const user = await repo.users.profile(pair.user_id);
    if (!user) throw ApiError.unauthorized("The user of this session no longer exists.");
    return c.json(
      { token: pair.token, expires_at: pair.expires_at, refresh_token: pair.refresh_token, user },
      200,
    );
  })
  .openapi(logoutRoute, async (c) => {
    const user = userId(c);
    const sid = c.var.user?.sid;
    // A guest token from before sessions has nothing to end; it runs out on its own.
    if (sid) {
      const { repo, config } = c.var.services;
      // Already ended (a second logout) is still a successful logout.
      await revokeSession(accountsOn(repo.sql, config).tokens.sessions, user, sid).catch((error) => {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      });
      await closeSessionSockets(c.env, user, sid);
    }
    return c.body(null, 204);
  })
  .openapi(listRoute, async (c) => {
    const { repo, config } = c.var.services;
    const items = await listSessions(
      accountsOn(repo.sql, config).tokens.sessions,
      userId(c),
      c.var.user?.sid ?? null,
    );
    return c.json({ items }, 200);
  })
  .openapi(revokeRoute, async (c) => {
    const user = userId(c);
    const { id } = c.req.valid("param");
    const { repo, config } = c.var.services;
    await revokeSession(accountsOn(repo.sql, config).tokens.sessions, user, id);
    await closeSessionSockets(c.env, user, id);
    return c.body(null, 204);
  });
