import { z } from "zod";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { newId } from "../../lib/ids";
import { SignInResponse } from "./schemas";
import { signInResponse } from "./sign-in";

const GuestBody = z.object({ display_name: z.string().trim().min(1).max(40).optional() }).strict();

const route = defineRoute({
  method: "post",
  path: "/auth/guest",
  summary: "Create an anonymous user and sign it in (access and refresh token)",
  tags: ["identity"],
  zone: ["strict", "identity"],
  request: { body: jsonRequest(GuestBody, false) },
  responses: { 201: jsonResponse(SignInResponse, "Created") },
});

export const guest = routes().openapi(route, async (c) => {
  const body = c.req.valid("json");
  const nowMs = Date.now();
  const id = newId("usr", nowMs);
  await c.var.services.repo.users.create({
    id,
    display_name: body.display_name ?? `Guest ${id.slice(-6)}`,
    created_at: new Date(nowMs).toISOString(),
  });
  return c.json(await signInResponse(c, id), 201);
});
