import { z } from "zod";
import { assertCharacterRoom } from "../../abuse/store-caps";
import { buildCard, CardError, extractCardFromPng, parseCard } from "../../cards";
import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { newId } from "../../lib/ids";
import { userId } from "../../middleware/auth";
import { CharacterParams, CharacterSchema, ImportQuery } from "./schemas";

/** API.md: PNG cards up to 8 MiB. */
export const CARD_MAX_BYTES = 8 * 1024 * 1024;

const CardDocument = z
  .object({ spec: z.string(), spec_version: z.string(), data: z.record(z.string(), z.unknown()) })
  .loose();

/** Documented only: the card's own parser validates it (V1 and V2, JSON or PNG). */
const CardBody = {
  type: "object" as const,
  description: "Character Card V2 (or V1) JSON",
  required: ["spec", "spec_version", "data"],
};

const importRoute = defineRoute({
  method: "post",
  path: "/characters/import",
  summary: "Import a Character Card V2 (JSON, or PNG with a `chara` text chunk)",
  tags: ["characters"],
  zone: "strict",
  auth: "user",
  bodyLimit: CARD_MAX_BYTES,
  request: {
    query: ImportQuery,
    body: {
      required: true,
      content: {
        "application/json": { schema: CardBody },
        "image/png": { schema: { type: "string" as const, contentMediaType: "image/png" } },
      },
    },
  },
  responses: { 201: jsonResponse(CharacterSchema, "The imported character") },
});

const exportRoute = defineRoute({
  method: "get",
  path: "/characters/{id}/card",
  summary: "Export a character as a Character Card V2",
  tags: ["characters"],
  zone: "api",
  auth: "optional",
  request: { params: CharacterParams },
  responses: { 200: jsonResponse(CardDocument, "Character Card V2") },
});

async function readCard(req: Request): Promise<unknown> {
  const type = (req.headers.get("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "image/png") return extractCardFromPng(new Uint8Array(await req.arrayBuffer()));
  if (type === "application/json") {
    try {
      return JSON.parse(await req.text());
    } catch {
      throw ApiError.invalid("The card is not valid JSON.");
    }
  }
  throw new ApiError(415, "unsupported_media_type", "Send the card as application/json or image/png.");
}

export const characterCards = routes()
  .openapi(importRoute, async (c) => {
    const { is_public } = c.req.valid("query");
    // Before the card is read: a user at the cap pays for no inflation or parsing.
    const { repo, config } = c.var.services;
    await assertCharacterRoom(repo, userId(c), config.MAX_CHARACTERS_PER_USER);
    let parsed: ReturnType<typeof parseCard>;
    try {
      parsed = parseCard(await readCard(c.req.raw));
    } catch (error) {
      if (error instanceof CardError) {
        throw ApiError.invalid(`The card is broken: ${error.message}`, [
          { path: error.path ?? "(card)", message: error.message },
        ]);
      }
      throw error;
    }
    const nowMs = Date.now();
    const character = await c.var.services.repo.characters.create(
      {
        ...parsed.fields,
        id: newId("chr", nowMs),
        owner_id: userId(c),
        avatar_url: null,
        is_public: is_public === "true",
        created_at: new Date(nowMs).toISOString(),
      },
      parsed.extras,
    );
    c.header("Location", `/api/v1/characters/${character.id}`);
    return c.json(character, 201);
  })
  .openapi(exportRoute, async (c) => {
    const { id } = c.req.valid("param");
    const { repo } = c.var.services;
    const character = await repo.characters.get(id, c.var.user?.id ?? null);
    if (!character) throw ApiError.notFound("character");
    const card = buildCard(character, await repo.characters.cardExtras(id));
    const filename = `${character.name.replace(/[^A-Za-z0-9 _-]/g, "").trim() || "character"}.json`;
    c.header("Content-Disposition", `attachment; filename="${filename}"`);
    return c.json(card as z.output<typeof CardDocument>, 200);
  });
