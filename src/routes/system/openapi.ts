import { Hono } from "hono";
import { openApiDocument } from "../../http/openapi";
import type { AppEnv } from "../../types";
import { VERSION } from "../../version";

export const openapi = new Hono<AppEnv>().get("/openapi.json", (c) =>
  c.json(openApiDocument(VERSION, c.var.services.config.PUBLIC_BASE_URL)),
);
