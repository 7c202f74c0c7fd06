/**
 * Paths whose segments are credentials, and what a log line shows instead: RunPod's
 * webhook URL carries the shared secret (and a per-job token), an image URL is the
 * unguessable key that grants access to the image.
 */
const SECRET_PATHS: ReadonlyArray<{ prefix: RegExp; replacement: string }> = [
  {
    prefix: /^\/api\/v1\/webhooks\/([A-Za-z0-9_-]{1,32})\/.*/s,
    replacement: "/api/v1/webhooks/$1/[redacted]",
  },
  { prefix: /^\/api\/v1\/webhooks\/.*/s, replacement: "/api/v1/webhooks/[redacted]" },
  { prefix: /^\/images\/.*/s, replacement: "/images/[redacted]" },
];

const MAX_PATH = 200;

/**
 * A request path as a log line may show it: secret segments replaced, control characters
 * dropped, at most 200 characters. The query string is never passed in (`?token=` on /ws).
 *
 * @example
 * loggablePath("/api/v1/webhooks/runpod/job_1/s3cret") // "/api/v1/webhooks/runpod/[redacted]"
 */
export function loggablePath(path: string): string {
  const bare = path.split("?")[0] ?? "";
  for (const { prefix, replacement } of SECRET_PATHS) {
    if (prefix.test(bare)) return bare.replace(prefix, replacement);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const clean = bare.replace(/[\u0000-\u001f\u007f]/g, "");
  return clean.length > MAX_PATH ? `${clean.slice(0, MAX_PATH)}...` : clean;
}
