import { Hono } from "hono";
import { ApiError } from "../../errors/api-error";
import { documentRoute } from "../../http/openapi";
import { Id } from "../../http/schemas";
import { jsonBody, parseOr400 } from "../../http/validate";
import { newId } from "../../lib/ids";
import { requireUser, userId } from "../../middleware/auth";
import type { AppEnv } from "../../types";
import { CharacterCreate, CharacterPatch, CharacterSchema } from "./schemas";

documentRoute({
  method: "post",
  path: "/api/v1/characters",
  summary: "Create a character",
  tag: "characters",
  auth: "user",
  body: CharacterCreate,
  responses: { 201: { description: "Created", schema: CharacterSchema } },
});
documentRoute({
  method: "patch",
  path: "/api/v1/characters/:id",
  summary: "Change the caller's character",
  tag: "characters",
  auth: "user",
  body: CharacterPatch,
  responses: { 200: { description: "Updated", schema: CharacterSchema } },
});
documentRoute({
  method: "delete",
  path: "/api/v1/characters/:id",
  summary: "Delete the caller's character",
  tag: "characters",
  auth: "user",
  responses: { 204: { description: "Deleted" } },
});

export const writeCharacters = new Hono<AppEnv>()
  .post("/characters", requireUser, async (c) => {
    const fields = await jsonBody(c, CharacterCreate);
    const nowMs = Date.now();
    const character = await c.var.services.repo.characters.create({
      ...fields,
      id: newId("chr", nowMs),
      owner_id: userId(c),
      created_at: new Date(nowMs).toISOString(),
    });
    c.header("Location", `/api/v1/characters/${character.id}`);
    return c.json(character, 201);
  })
  .patch("/characters/:id", requireUser, async (c) => {
    const id = parseOr400(Id, c.req.param("id"), "character id", "id");
    const patch = await jsonBody(c, CharacterPatch);
    const updated = await c.var.services.repo.characters.update(
      id,
      userId(c),
      patch,
      new Date().toISOString(),
    );
    if (!updated) throw ApiError.notFound("character");
    return c.json(updated);
  })
  .delete("/characters/:id", requireUser, async (c) => {
    const id = parseOr400(Id, c.req.param("id"), "character id", "id");
    if (!(await c.var.services.repo.characters.delete(id, userId(c)))) throw ApiError.notFound("character");
    return c.body(null, 204);
  });
