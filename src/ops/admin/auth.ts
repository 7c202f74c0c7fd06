import { bearerAuth } from "hono/bearer-auth";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../../errors/api-error";
import type { AppEnv } from "../../types";

/**
 * Every refusal is the API's own 401 problem+json (thrown, so `app.onError` renders it),
 * never bearer-auth's plain-text 400/401: a malformed header is as unauthorized as a wrong token.
 */
const refuse = () => {
  throw ApiError.unauthorized("A valid admin token is required.");
};

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` or 401, checked by `hono/bearer-auth` (a
 * constant-time comparison of digests). Never open: with ADMIN_TOKEN unset every request
 * is 401 (the detail says why, so an operator knows what to configure).
 *
 * @example
 * admin.use("/admin/*", requireAdmin);
 */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.var.services.config.ADMIN_TOKEN;
  if (!token) throw ApiError.unauthorized("The admin API is disabled: ADMIN_TOKEN is not configured.");
  if (checker?.token !== token) checker = { token, check: adminBearer(token) };
  return checker.check(c, next);
});

/** The bearer-auth middleware for the configured token, built once per isolate (the token rarely changes). */
let checker: { token: string; check: ReturnType<typeof adminBearer> } | undefined;

function adminBearer(token: string) {
  return bearerAuth<AppEnv>({
    token,
    noAuthenticationHeader: { message: refuse },
    invalidAuthenticationHeader: { message: refuse },
    invalidToken: { message: refuse },
  });
}
