import { Hono } from "hono";
import { documentRoute } from "../../http/openapi";
import { ListQuery, Page } from "../../http/schemas";
import { query } from "../../http/validate";
import { decodeCursor, page } from "../../lib/cursor";
import { requireUser, userId } from "../../middleware/auth";
import type { AppEnv } from "../../types";
import { ChatSchema } from "./schemas";

documentRoute({
  method: "get",
  path: "/api/v1/chats",
  summary: "The caller's chats, most recent activity first",
  tag: "chats",
  auth: "user",
  query: ListQuery,
  responses: { 200: { description: "A page of chats", schema: Page(ChatSchema) } },
});

export const listChats = new Hono<AppEnv>().get("/chats", requireUser, async (c) => {
  const q = query(c, ListQuery);
  const rows = await c.var.services.repo.chats.list(userId(c), q.limit, decodeCursor(q.cursor));
  return c.json(page(rows, q.limit, (chat) => ({ sort: chat.last_message_at, id: chat.id })));
});
