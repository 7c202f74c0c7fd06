import { assertCharacterRoom } from "../../abuse/store-caps";
import { deletePortraits } from "../../accounts/delete-user";
import { cardTooLarge, exceedsUtf8Bytes, MAX_CARD_EXTRAS_BYTES } from "../../cards/limits";
import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { newId } from "../../lib/ids";
import { userId } from "../../middleware/auth";
import { CharacterCreate, CharacterParams, CharacterPatch, CharacterSchema } from "./schemas";

/** Room for a lorebook as large as an imported card's extras, plus the text fields. */
const CHARACTER_BODY_LIMIT = MAX_CARD_EXTRAS_BYTES + 128 * 1024;

/** API.md: a lorebook set by POST/PATCH stays "within the 256 KiB" of an imported card; more is 413. */
function assertBookSize(book: Record<string, unknown> | null | undefined): void {
  if (book && exceedsUtf8Bytes(JSON.stringify(book), MAX_CARD_EXTRAS_BYTES)) {
    throw cardTooLarge(`character_book exceeds ${MAX_CARD_EXTRAS_BYTES} bytes as JSON.`);
  }
}

const create = defineRoute({
  method: "post",
  path: "/characters",
  summary: "Create a character",
  tags: ["characters"],
  zone: "strict",
  auth: "user",
  bodyLimit: CHARACTER_BODY_LIMIT,
  request: { body: jsonRequest(CharacterCreate) },
  responses: { 201: jsonResponse(CharacterSchema, "Created") },
});

const update = defineRoute({
  method: "patch",
  path: "/characters/{id}",
  summary: "Change the caller's character",
  tags: ["characters"],
  zone: "api",
  auth: "user",
  bodyLimit: CHARACTER_BODY_LIMIT,
  request: { params: CharacterParams, body: jsonRequest(CharacterPatch) },
  responses: { 200: jsonResponse(CharacterSchema, "Updated") },
});

const remove = defineRoute({
  method: "delete",
  path: "/characters/{id}",
  summary: "Delete the caller's character",
  tags: ["characters"],
  zone: "api",
  auth: "user",
  request: { params: CharacterParams },
  responses: { 204: { description: "Deleted" } },
});

export const writeCharacters = routes()
  .openapi(create, async (c) => {
    const fields = c.req.valid("json");
    assertBookSize(fields.character_book);
    const { repo, config } = c.var.services;
    await assertCharacterRoom(repo, userId(c), config.MAX_CHARACTERS_PER_USER);
    const nowMs = Date.now();
    const character = await repo.characters.create({
      ...fields,
      id: newId("chr", nowMs),
      owner_id: userId(c),
      created_at: new Date(nowMs).toISOString(),
    });
    c.header("Location", `/api/v1/characters/${character.id}`);
    return c.json(character, 201);
  })
  .openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    assertBookSize(patch.character_book);
    const updated = await c.var.services.repo.characters.update(
      id,
      userId(c),
      patch,
      new Date().toISOString(),
    );
    if (!updated) throw ApiError.notFound("character");
    return c.json(updated, 200);
  })
  .openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    const { repo, images } = c.var.services;
    // The imported portrait first: a failure after it leaves a row without its picture, never a
    // picture nobody can find again (as deleting a user does).
    await deletePortraits(repo, images, userId(c), id);
    if (!(await repo.characters.delete(id, userId(c)))) throw ApiError.notFound("character");
    return c.body(null, 204);
  });
