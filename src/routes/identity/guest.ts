import { z } from "zod";
import { requireHuman } from "../../abuse/turnstile";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { newId } from "../../lib/ids";
import { normaliseAddress } from "../../rate-limit/client-ip";
import { defaultGuestName } from "../../realtime/names";
import { SignInResponse } from "./schemas";
import { signInResponse } from "./sign-in";

const GuestBody = z
  .object({
    display_name: z.string().trim().min(1).max(40).optional(),
    /** Required while TURNSTILE_SECRET_KEY is set (API.md, "Spend and abuse limits"). */
    turnstile_token: z.string().min(1).max(2048).optional(),
  })
  .strict();

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
  const { config } = c.var.services;
  const address = normaliseAddress(c.req.header(config.CLIENT_IP_HEADER) ?? "");
  await requireHuman(config, body.turnstile_token, address);
  const nowMs = Date.now();
  const id = newId("usr", nowMs);
  await c.var.services.repo.users.create({
    id,
    display_name: body.display_name ?? defaultGuestName(id),
    created_at: new Date(nowMs).toISOString(),
  });
  return c.json(await signInResponse(c, id), 201);
});
