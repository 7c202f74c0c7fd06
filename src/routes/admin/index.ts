import { Hono } from "hono";
import { requireAdmin } from "../../ops/admin/auth";
import type { AppEnv } from "../../types";
import { deadLetters } from "./dead-letters";
import { adminStats } from "./stats";

/** Every `/admin/*` route, behind the admin bearer token (API.md, "Operators"). */
export const admin = new Hono<AppEnv>()
  .use("/admin/*", requireAdmin)
  .route("/", adminStats)
  .route("/", deadLetters);
