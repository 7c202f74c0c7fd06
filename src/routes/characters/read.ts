import { Hono } from "hono";
import { ApiError } from "../../errors/api-error";
import { documentRoute } from "../../http/openapi";
import { Id, Page } from "../../http/schemas";
import { parseOr400, query } from "../../http/validate";
import { decodeCursor, page } from "../../lib/cursor";
import { optionalUser } from "../../middleware/auth";
import type { AppEnv } from "../../types";
import { CharacterListQuery, CharacterSchema } from "./schemas";

documentRoute({
  method: "get",
  path: "/api/v1/characters",
  summary: "Public characters plus the caller's own, newest first",
  tag: "characters",
  auth: "optional",
  query: CharacterListQuery,
  responses: { 200: { description: "A page of characters", schema: Page(CharacterSchema) } },
});
documentRoute({
  method: "get",
  path: "/api/v1/characters/:id",
  summary: "One character (another user's private character is 404)",
  tag: "characters",
  auth: "optional",
  responses: { 200: { description: "The character", schema: CharacterSchema } },
});

export const readCharacters = new Hono<AppEnv>()
  .get("/characters", optionalUser, async (c) => {
    const q = query(c, CharacterListQuery);
    const rows = await c.var.services.repo.characters.list({
      viewerId: c.var.user?.id ?? null,
      limit: q.limit,
      cursor: decodeCursor(q.cursor),
      tag: q.tag,
      q: q.q,
    });
    return c.json(page(rows, q.limit, (row) => ({ sort: row.created_at, id: row.id })));
  })
  .get("/characters/:id", optionalUser, async (c) => {
    const id = parseOr400(Id, c.req.param("id"), "character id", "id");
    const character = await c.var.services.repo.characters.get(id, c.var.user?.id ?? null);
    if (!character) throw ApiError.notFound("character");
    return c.json(character);
  });
