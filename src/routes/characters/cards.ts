import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { buildCard, CardError, extractCardFromPng, parseCard } from "../../cards";
import { ApiError } from "../../errors/api-error";
import { documentRoute } from "../../http/openapi";
import { Id } from "../../http/schemas";
import { parseOr400, query } from "../../http/validate";
import { newId } from "../../lib/ids";
import { optionalUser, requireUser, userId } from "../../middleware/auth";
import type { AppEnv } from "../../types";
import { CharacterSchema, ImportQuery } from "./schemas";

/** API.md: PNG cards up to 8 MiB. */
export const CARD_MAX_BYTES = 8 * 1024 * 1024;

const CardDocument = z
  .object({ spec: z.string(), spec_version: z.string(), data: z.record(z.string(), z.unknown()) })
  .loose();

documentRoute({
  method: "post",
  path: "/api/v1/characters/import",
  summary: "Import a Character Card V2 (JSON, or PNG with a `chara` text chunk)",
  tag: "characters",
  auth: "user",
  query: ImportQuery,
  body: CardDocument,
  responses: { 201: { description: "The imported character", schema: CharacterSchema } },
});
documentRoute({
  method: "get",
  path: "/api/v1/characters/:id/card",
  summary: "Export a character as a Character Card V2",
  tag: "characters",
  auth: "optional",
  responses: { 200: { description: "Character Card V2", schema: CardDocument } },
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

export const characterCards = new Hono<AppEnv>()
  .post(
    "/characters/import",
    requireUser,
    bodyLimit({
      maxSize: CARD_MAX_BYTES,
      onError: () => {
        throw ApiError.tooLarge(CARD_MAX_BYTES);
      },
    }),
    async (c) => {
      const { is_public } = query(c, ImportQuery);
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
    },
  )
  .get("/characters/:id/card", optionalUser, async (c) => {
    const id = parseOr400(Id, c.req.param("id"), "character id", "id");
    const { repo } = c.var.services;
    const character = await repo.characters.get(id, c.var.user?.id ?? null);
    if (!character) throw ApiError.notFound("character");
    const card = buildCard(character, await repo.characters.cardExtras(id));
    const filename = `${character.name.replace(/[^A-Za-z0-9 _-]/g, "").trim() || "character"}.json`;
    c.header("Content-Disposition", `attachment; filename="${filename}"`);
    return c.json(card);
  });
