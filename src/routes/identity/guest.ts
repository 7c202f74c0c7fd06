import { z } from "zod";
import { signAccessToken } from "../../auth/jwt";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { newId } from "../../lib/ids";
import { defaultGuestName } from "../../realtime/names";
import { UserSchema } from "./schemas";

/** Guest tokens live 30 days: long enough that a returning visitor keeps their history. */
const TOKEN_TTL_S = 30 * 24 * 3600;

const GuestBody = z.object({ display_name: z.string().trim().min(1).max(40).optional() }).strict();
const GuestResponse = z.object({ token: z.string(), user: UserSchema, expires_at: z.string() });

const route = defineRoute({
  method: "post",
  path: "/auth/guest",
  summary: "Create an anonymous user and its access token",
  tags: ["identity"],
  zone: "strict",
  request: { body: jsonRequest(GuestBody, false) },
  responses: { 201: jsonResponse(GuestResponse, "Created") },
});

export const guest = routes().openapi(route, async (c) => {
  const body = c.req.valid("json");
  const nowMs = Date.now();
  const id = newId("usr", nowMs);
  const user = await c.var.services.repo.users.create({
    id,
    display_name: body.display_name ?? defaultGuestName(id),
    created_at: new Date(nowMs).toISOString(),
  });
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + TOKEN_TTL_S;
  const token = await signAccessToken({ sub: user.id, iat, exp }, c.var.services.config.JWT_SECRET);
  return c.json({ token, user, expires_at: new Date(exp * 1000).toISOString() }, 201);
});
