import { HttpError } from "./http.mjs";
import { imageFor, parseFileName } from "./images.mjs";

/**
 * `GET /files/<name>.png`: the "bucket" behind `comfyui_s3` outputs. Files are rendered from the
 * job's parameters on request and vanish when the job expires.
 * @param {ReturnType<import("./router.mjs").createRouter>} router
 * @param {{jobs: ReturnType<import("./jobs.mjs").createJobStore>}} emulator
 */
export function registerFileRoutes(router, { jobs }) {
  router.add(["GET", "HEAD"], "/files/:name", ({ req, res, params }) => {
    const png = storedFile(jobs, params.name);
    if (!png) throw new HttpError(404, "file not found");
    res.writeHead(200, {
      "content-type": "image/png",
      "content-length": png.length,
      "cache-control": "public, max-age=31536000, immutable",
    });
    res.end(req.method === "HEAD" ? undefined : png);
  });
}

/** The PNG behind a file name, if a completed `comfyui_s3` job produced it. */
function storedFile(jobs, name) {
  const file = parseFileName(name);
  const job = file && jobs.find(file.jobId);
  const stored =
    job?.status === "COMPLETED" && job.format === "comfyui_s3" && file.index < job.request.numImages;
  return stored ? imageFor(job.request, file.index) : null;
}
