import { z } from "zod";
import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { UserSchema } from "./schemas";

const route = defineRoute({
  method: "get",
  path: "/me",
  summary: "The caller",
  tags: ["identity"],
  zone: "api",
  auth: "user",
  responses: { 200: jsonResponse(z.object({ user: UserSchema }), "The caller") },
});

export const me = routes().openapi(route, async (c) => {
  const user = await c.var.services.repo.users.get(userId(c));
  // A valid token for a user that no longer exists (e.g. restored from an older backup).
  if (!user) throw ApiError.unauthorized("The user of this token no longer exists.");
  return c.json({ user }, 200);
});
