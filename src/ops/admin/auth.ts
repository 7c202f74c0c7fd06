import { createMiddleware } from "hono/factory";
import { ApiError } from "../../errors/api-error";
import { bearerToken } from "../../middleware/auth";
import type { AppEnv } from "../../types";

const encoder = new TextEncoder();

/**
 * Constant-time equality of two secrets: both are hashed first, so the comparison always
 * runs over 32 bytes and neither the content nor the length of the expected token leaks
 * through timing.
 *
 * @example
 * await secretsEqual(given, config.ADMIN_TOKEN) // true | false
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` or 401. Never open: with ADMIN_TOKEN unset every
 * request is 401 (the detail says why, so an operator knows what to configure).
 *
 * @example
 * admin.use("/admin/*", requireAdmin);
 */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.var.services.config.ADMIN_TOKEN;
  if (!expected) throw ApiError.unauthorized("The admin API is disabled: ADMIN_TOKEN is not configured.");
  const given = bearerToken(c.req.raw);
  if (!given || !(await secretsEqual(given, expected)))
    throw ApiError.unauthorized("A valid admin token is required.");
  await next();
});
