import { Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../../errors/api-error";
import { documentRoute } from "../../http/openapi";
import { requireUser, userId } from "../../middleware/auth";
import type { AppEnv } from "../../types";
import { UserSchema } from "./schemas";

documentRoute({
  method: "get",
  path: "/api/v1/me",
  summary: "The caller",
  tag: "identity",
  auth: "user",
  responses: { 200: { description: "The caller", schema: z.object({ user: UserSchema }) } },
});

export const me = new Hono<AppEnv>().get("/me", requireUser, async (c) => {
  const user = await c.var.services.repo.users.get(userId(c));
  // A valid token for a user that no longer exists (e.g. restored from an older backup).
  if (!user) throw ApiError.unauthorized("The user of this token no longer exists.");
  return c.json({ user });
});
