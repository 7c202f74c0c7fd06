import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { z } from "zod";
import { accountsOn } from "../../accounts/deps";
import { authenticationOptions, verifyAuthentication } from "../../accounts/passkey-authentication";
import { deletePasskey, listPasskeys } from "../../accounts/passkey-management";
import { registrationOptions, verifyRegistration } from "../../accounts/passkey-registration";
import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { CredentialResponse, PasskeySchema, SignInResponse, UserSchema, WebAuthnOptions } from "./schemas";
import { closeUserSockets, signInResponse } from "./sign-in";

const registerOptionsRoute = defineRoute({
  method: "post",
  path: "/auth/passkeys/register/options",
  summary: "WebAuthn creation options for a discoverable passkey (the challenge is single-use, 5 min)",
  tags: ["identity"],
  zone: ["strict", "identity"],
  auth: "user",
  responses: { 200: jsonResponse(WebAuthnOptions, "PublicKeyCredentialCreationOptionsJSON") },
});

const RegisterBody = z
  .object({ response: CredentialResponse, name: z.string().trim().max(64).optional() })
  .strict();

const registerRoute = defineRoute({
  method: "post",
  path: "/auth/passkeys/register",
  summary: "Store a passkey; a guest becomes an account and keeps everything it owns",
  tags: ["identity"],
  zone: ["strict", "identity"],
  auth: "user",
  request: { body: jsonRequest(RegisterBody) },
  responses: {
    201: jsonResponse(
      z.object({
        passkey: PasskeySchema,
        user: UserSchema,
        // Only for a caller whose token predates sessions: a session it can refresh.
        token: z.string().optional(),
        expires_at: z.string().optional(),
        refresh_token: z.string().optional(),
      }),
      "Registered",
    ),
  },
});

const loginOptionsRoute = defineRoute({
  method: "post",
  path: "/auth/passkeys/login/options",
  summary: "WebAuthn request options (no allowCredentials: any discoverable passkey of this site)",
  tags: ["identity"],
  zone: ["strict", "identity"],
  responses: { 200: jsonResponse(WebAuthnOptions, "PublicKeyCredentialRequestOptionsJSON") },
});

const MergedSchema = z.object({ characters: z.number(), chats: z.number(), generations: z.number() });

const loginRoute = defineRoute({
  method: "post",
  path: "/auth/passkeys/login",
  summary:
    "Sign in with a passkey; with a guest's bearer token the guest's characters, chats and jobs move to the account",
  tags: ["identity"],
  zone: ["strict", "identity"],
  auth: "optional",
  request: { body: jsonRequest(z.object({ response: CredentialResponse }).strict()) },
  responses: {
    200: jsonResponse(SignInResponse.extend({ merged: MergedSchema.optional() }), "Signed in"),
  },
});

const listRoute = defineRoute({
  method: "get",
  path: "/me/passkeys",
  summary: "The caller's passkeys, newest first",
  tags: ["identity"],
  zone: "api",
  auth: "user",
  responses: { 200: jsonResponse(z.object({ items: z.array(PasskeySchema) }), "Passkeys") },
});

const deleteRoute = defineRoute({
  method: "delete",
  path: "/me/passkeys/{id}",
  summary: "Delete one of the caller's passkeys (an account's last one: 409)",
  tags: ["identity"],
  zone: "api",
  auth: "user",
  request: { params: z.object({ id: z.string().min(1).max(64) }) },
  responses: { 204: { description: "Deleted" } },
});

export const passkeys = routes()
  .openapi(registerOptionsRoute, async (c) => {
    const { repo, config } = c.var.services;
    const user = await repo.users.profile(userId(c));
    if (!user) throw ApiError.unauthorized("The user of this token no longer exists.");
    return c.json(await registrationOptions(accountsOn(repo.sql, config).passkeys, user), 200);
  })
  .openapi(registerRoute, async (c) => {
    const { repo, config } = c.var.services;
    const body = c.req.valid("json");
    const user = await repo.users.profile(userId(c));
    if (!user) throw ApiError.unauthorized("The user of this token no longer exists.");
    const passkey = await verifyRegistration(
      accountsOn(repo.sql, config).passkeys,
      user,
      body.response as unknown as RegistrationResponseJSON,
      body.name,
    );
    if (user.kind !== "account") await repo.users.makeAccount(user.id);
    if (!c.var.user?.sid) {
      const signedIn = await signInResponse(c, user.id);
      return c.json({ passkey, ...signedIn }, 201);
    }
    return c.json({ passkey, user: { ...user, kind: "account" as const } }, 201);
  })
  .openapi(loginOptionsRoute, async (c) => {
    const { repo, config } = c.var.services;
    return c.json(await authenticationOptions(accountsOn(repo.sql, config).passkeys), 200);
  })
  .openapi(loginRoute, async (c) => {
    const { repo, config } = c.var.services;
    const { response } = c.req.valid("json");
    const login = await verifyAuthentication(
      accountsOn(repo.sql, config).passkeys,
      response as unknown as AuthenticationResponseJSON,
    );
    const callerId = c.var.user?.id;
    const caller = callerId && callerId !== login.user_id ? await repo.users.profile(callerId) : null;
    if (caller?.kind === "guest") {
      const merged = await repo.users.mergeGuestInto(caller.id, login.user_id);
      await closeUserSockets(c.env, caller.id);
      return c.json({ ...(await signInResponse(c, login.user_id)), merged }, 200);
    }
    return c.json(await signInResponse(c, login.user_id), 200);
  })
  .openapi(listRoute, async (c) => {
    const { repo, config } = c.var.services;
    return c.json(
      { items: await listPasskeys(accountsOn(repo.sql, config).passkeys.passkeys, userId(c)) },
      200,
    );
  })
  .openapi(deleteRoute, async (c) => {
    const { repo, config } = c.var.services;
    await deletePasskey(accountsOn(repo.sql, config).passkeys.passkeys, userId(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
