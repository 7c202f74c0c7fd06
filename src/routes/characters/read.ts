import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { Page } from "../../http/schemas";
import { decodeCursor, page } from "../../lib/cursor";
import { CharacterListQuery, CharacterParams, CharacterSchema } from "./schemas";

const list = defineRoute({
  method: "get",
  path: "/characters",
  summary: "Public characters plus the caller's own, newest first",
  tags: ["characters"],
  zone: "api",
  auth: "optional",
  request: { query: CharacterListQuery },
  responses: { 200: jsonResponse(Page(CharacterSchema), "A page of characters") },
});

const one = defineRoute({
  method: "get",
  path: "/characters/{id}",
  summary: "One character (another user's private character is 404)",
  tags: ["characters"],
  zone: "api",
  auth: "optional",
  request: { params: CharacterParams },
  responses: { 200: jsonResponse(CharacterSchema, "The character") },
});

export const readCharacters = routes()
  .openapi(list, async (c) => {
    const q = c.req.valid("query");
    const rows = await c.var.services.repo.characters.list({
      viewerId: c.var.user?.id ?? null,
      limit: q.limit,
      cursor: decodeCursor(q.cursor),
      tag: q.tag,
      q: q.q,
    });
    return c.json(
      page(rows, q.limit, (row) => ({ sort: row.created_at, id: row.id })),
      200,
    );
  })
  .openapi(one, async (c) => {
    const { id } = c.req.valid("param");
    const character = await c.var.services.repo.characters.get(id, c.var.user?.id ?? null);
    if (!character) throw ApiError.notFound("character");
    return c.json(character, 200);
  });
