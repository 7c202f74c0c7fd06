import { z } from "zod";
import { assertCharacterRoom } from "../../abuse/store-caps";
import { buildCard, CardError, extractCardFromPng, parseCard, stripTextChunks } from "../../cards";
import { ApiError } from "../../errors/api-error";
import { imageKey, imageUrl } from "../../generation/image-keys";
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
  responses: {
    201: jsonResponse(CharacterSchema, "The imported character"),
    409: {
      description:
        "The caller already has a character from this card (same name and description): `existing_id` names it; `?duplicate=true` imports a copy anyway",
    },
  },
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

/** The card's JSON, and for a PNG card its bytes: the picture is the character's portrait. */
async function readCard(req: Request): Promise<{ card: unknown; png: Uint8Array | null }> {
  const type = (req.headers.get("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "image/png") {
    const png = new Uint8Array(await req.arrayBuffer());
    return { card: await extractCardFromPng(png), png };
  }
  if (type === "application/json") {
    try {
      return { card: JSON.parse(await req.text()), png: null };
    } catch {
      throw ApiError.invalid("The card is not valid JSON.");
    }
  }
  throw new ApiError(415, "unsupported_media_type", "Send the card as application/json or image/png.");
}

export const characterCards = routes()
  .openapi(importRoute, async (c) => {
    const { is_public, duplicate } = c.req.valid("query");
    // Before the card is read: a user at the cap pays for no inflation or parsing.
    const { repo, config, images } = c.var.services;
    await assertCharacterRoom(repo, userId(c), config.MAX_CHARACTERS_PER_USER);
    let parsed: ReturnType<typeof parseCard>;
    let png: Uint8Array | null;
    try {
      const read = await readCard(c.req.raw);
      png = read.png;
      parsed = parseCard(read.card);
    } catch (error) {
      if (error instanceof CardError) {
        throw ApiError.invalid(`The card is broken: ${error.message}`, [
          { path: error.path ?? "(card)", message: error.message },
        ]);
      }
      throw error;
    }
    const owner = userId(c);
    if (duplicate !== "true") {
      // The same card imported twice: same name and description among the caller's own.
      const existing = await repo.characters.findOwnedCopy(
        owner,
        parsed.fields.name,
        parsed.fields.description,
      );
      if (existing) {
        throw ApiError.conflict(
          `You already have ${existing.name} from this card; add ?duplicate=true to import a copy.`,
          {
            existing_id: existing.id,
          },
        );
      }
    }
    const nowMs = Date.now();
    const id = newId("chr", nowMs);
    let avatarUrl: string | null = null;
    if (png) {
      // A PNG card is the character's picture: stored like any image, without the card's text.
      const key = await imageKey(config, id, 0, "png");
      await images.put(key, stripTextChunks(png), "image/png");
      avatarUrl = imageUrl(config, key);
    }
    const character = await repo.characters.create(
      {
        ...parsed.fields,
        character_book: parsed.fields.character_book ?? null,
        appearance: "",
        id,
        owner_id: owner,
        avatar_url: avatarUrl,
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
