import { z } from "zod";
import { deleteUserWithEverything } from "../../accounts/delete-user";
import { exportLines } from "../../accounts/export";
import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { UserSchema } from "./schemas";
import { closeUserSockets } from "./sign-in";

const route = defineRoute({
  method: "get",
  path: "/me",
  summary: "The caller",
  tags: ["identity"],
  zone: "api",
  auth: "user",
  responses: { 200: jsonResponse(z.object({ user: UserSchema }), "The caller") },
});

const PatchBody = z
  .object({
    display_name: z.string().trim().min(1).max(40).optional(),
    persona: z
      .object({ name: z.string().trim().min(1).max(40), description: z.string().max(2000) })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

const patchRoute = defineRoute({
  method: "patch",
  path: "/me",
  summary: "Change the caller's display name or persona (null clears it)",
  tags: ["identity"],
  zone: "api",
  auth: "user",
  request: { body: jsonRequest(PatchBody) },
  // API.md: "-> 200 user", the user itself (as PATCH /chats/:id answers the chat), not GET /me's `{user}`.
  responses: { 200: jsonResponse(UserSchema, "The caller, changed") },
});

const deleteRoute = defineRoute({
  method: "delete",
  path: "/me",
  summary: "Delete the caller and everything it owns, stored images included",
  tags: ["identity"],
  zone: "strict",
  auth: "user",
  responses: { 204: { description: "Deleted" } },
});

const exportRoute = defineRoute({
  method: "get",
  path: "/me/export",
  summary: "Everything the caller owns, one JSON record a line",
  tags: ["identity"],
  zone: "strict",
  auth: "user",
  responses: {
    // application/x-ndjson; createRoute types handlers by JSON responses, so the media type is told here.
    200: {
      description:
        "application/x-ndjson: user, character, chat, message, generation, session, passkey records",
    },
  },
});

const gone = () => ApiError.unauthorized("The user of this token no longer exists.");

export const me = routes()
  .openapi(route, async (c) => {
    // A valid token for a user that no longer exists (deleted, or restored from an older backup).
    const user = await c.var.services.repo.users.profile(userId(c));
    if (!user) throw gone();
    return c.json({ user }, 200);
  })
  .openapi(patchRoute, async (c) => {
    const { repo } = c.var.services;
    const id = userId(c);
    if (!(await repo.users.updateProfile(id, c.req.valid("json")))) throw gone();
    const user = await repo.users.profile(id);
    if (!user) throw gone();
    return c.json(user, 200);
  })
  .openapi(deleteRoute, async (c) => {
    const { repo, images } = c.var.services;
    const id = userId(c);
    if (!(await repo.users.get(id))) throw gone();
    await deleteUserWithEverything(repo, images, id);
    await closeUserSockets(c.env, id);
    return c.body(null, 204);
  })
  .openapi(exportRoute, async (c) => {
    const { repo } = c.var.services;
    const user = await repo.users.profile(userId(c));
    if (!user) throw gone();
    // Read whole before answering: the repository's connection closes after the response.
    let body = "";
    for await (const text of exportLines(repo.sql, user)) body += text;
    return new Response(body, {
      status: 200,
      headers: {
        "Content-Type": "application/x-ndjson; charset=utf-8",
        "Content-Disposition": 'attachment; filename="export.ndjson"',
      },
    });
  });
