import { z } from "zod";

export const PersonaSchema = z.object({ name: z.string(), description: z.string() });

export const UserSchema = z.object({
  id: z.string(),
  display_name: z.string(),
  created_at: z.string(),
  kind: z.enum(["guest", "account"]),
  persona: PersonaSchema.nullable(),
});

/** Every sign-in response (API.md, "Accounts and sessions"). */
export const SignInResponse = z.object({
  token: z.string(),
  expires_at: z.string(),
  refresh_token: z.string(),
  user: UserSchema,
});

export const PasskeySchema = z.object({
  id: z.string(),
  name: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});

/** The WebAuthn JSON an authenticator's response arrives as; the library checks the rest. */
export const CredentialResponse = z
  .object({
    id: z.string().min(1).max(1024),
    rawId: z.string().min(1).max(1024),
    type: z.literal("public-key"),
    response: z.object({ clientDataJSON: z.string().min(1).max(16_384) }).passthrough(),
    clientExtensionResults: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/** The options objects of @simplewebauthn/server, documented loosely. */
export const WebAuthnOptions = z.object({ challenge: z.string() }).passthrough();
