import { HttpError, sendJson } from "./http.mjs";

/**
 * @typedef {object} RouteContext
 * @property {import("node:http").IncomingMessage} req
 * @property {import("node:http").ServerResponse} res
 * @property {Record<string, string>} params path parameters
 * @property {URL} url
 */

function decodePathPart(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, "malformed percent-encoding in path");
  }
}

/**
 * A minimal method + path-pattern router that renders every thrown error in one place.
 * @example
 * const router = createRouter();
 * router.add("GET", "/v2/:endpointId/health", ({ res, params }) => sendJson(res, 200, params));
 * http.createServer(router.handle);
 */
export function createRouter() {
  const routes = [];

  function add(methods, pattern, handler) {
    const names = [];
    const source = pattern.replace(/:(\w+)/g, (_, name) => {
      names.push(name);
      return "([^/]+)";
    });
    routes.push({ methods: [methods].flat(), regex: new RegExp(`^${source}$`), names, handler });
  }

  async function dispatch(req, res) {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    let pathMatched = false;
    for (const route of routes) {
      const match = route.regex.exec(url.pathname);
      if (!match) continue;
      pathMatched = true;
      if (!route.methods.includes(req.method)) continue;
      const params = Object.fromEntries(route.names.map((name, i) => [name, decodePathPart(match[i + 1])]));
      return route.handler({ req, res, params, url });
    }
    throw pathMatched ? new HttpError(405, "method not allowed") : new HttpError(404, "not found");
  }

  /** @type {import("node:http").RequestListener} */
  function handle(req, res) {
    dispatch(req, res).catch((error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(res, error.status, error.body, error.headers);
        return;
      }
      console.error("runpod-emulator: unhandled error", error);
      sendJson(res, 500, { error: "internal emulator error" });
    });
  }

  return { add, handle };
}
