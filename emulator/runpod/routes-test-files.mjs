import { HttpError } from "./http.mjs";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_BLOB_BYTES = 64 * 1024 * 1024;

/**
 * Download shapes a real bucket can take, for the Worker's image download tests:
 * - `GET /_emulator/blob?bytes=N[&length=omit]`: N bytes starting with a PNG signature, sent in
 *   64 KiB chunks, with a `Content-Length` or (`length=omit`) without one;
 * - `GET /_emulator/redirect?to=<url>`: a 302 to `to`, wherever it points.
 * @param {ReturnType<import("./router.mjs").createRouter>} router
 */
export function registerTestFileRoutes(router) {
  router.add("GET", "/_emulator/blob", ({ res, url }) => {
    const bytes = Number(url.searchParams.get("bytes") ?? "1024");
    if (!Number.isInteger(bytes) || bytes < PNG_SIGNATURE.length || bytes > MAX_BLOB_BYTES) {
      throw new HttpError(400, `bytes must be an integer in ${PNG_SIGNATURE.length}..${MAX_BLOB_BYTES}`);
    }
    const headers = { "content-type": "image/png" };
    if (url.searchParams.get("length") !== "omit") headers["content-length"] = bytes;
    res.writeHead(200, headers);
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let left = bytes;
    res.write(PNG_SIGNATURE);
    left -= PNG_SIGNATURE.length;
    const pump = () => {
      while (left > 0) {
        const piece = chunk.subarray(0, Math.min(chunk.length, left));
        left -= piece.length;
        if (!res.write(piece)) {
          res.once("drain", pump);
          return;
        }
      }
      res.end();
    };
    res.on("close", () => {
      left = 0;
    });
    pump();
  });

  router.add("GET", "/_emulator/redirect", ({ res, url }) => {
    const to = url.searchParams.get("to");
    if (!to) throw new HttpError(400, "to is required");
    res.writeHead(302, { location: to });
    res.end();
  });
}
