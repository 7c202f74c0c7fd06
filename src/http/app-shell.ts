import type { Context } from "hono";
import type { AppEnv } from "../types";

/**
 * The web client's own paths (public/app/main.js registers one view per pattern; History-API
 * routes, so a reload or a shared link asks the server for them). Only these get the app's
 * index.html; any other path that is not a static file is a real 404 (`/favicon.ico`,
 * `/wp-login.php`), which the old catch-all SPA fallback answered with 200 text/html.
 * A new view of the client needs its pattern here too.
 */
const APP_PATHS = [
  /^\/$/,
  /^\/characters\/[^/]+\/?$/,
  /^\/chats\/?$/,
  /^\/chats\/[^/]+\/?$/,
  /^\/generate\/?$/,
  /^\/gallery\/?$/,
  /^\/settings(\/[^/]+)?\/?$/,
];

export function isAppPath(method: string, path: string): boolean {
  return (method === "GET" || method === "HEAD") && APP_PATHS.some((pattern) => pattern.test(path));
}

/** The client's index.html from the assets binding, whatever app path was asked for. */
export async function appShell(c: Context<AppEnv>): Promise<Response> {
  const url = new URL("/", c.req.url);
  const res = await c.env.ASSETS.fetch(
    new Request(url, { method: c.req.method, headers: { Accept: "text/html" } }),
  );
  // A copy: the binding's headers are immutable, and middleware adds its own.
  return new Response(res.body, res);
}
