import type { Config } from "../config";
import { OutputError } from "./output-parser";

/** Redirects followed (each to an allowed host) before a download is given up. */
export const MAX_REDIRECTS = 3;

export interface DownloadLimits {
  /** Origins images may come from; see `allowedImageOrigins`. */
  allowed: AllowedOrigin[];
  maxBytes: number;
  timeoutMs: number;
  fetch: typeof fetch;
}

/** `host` is `hostname[:port]`; `subdomains` lets `<bucket>.host` in (S3 virtual-hosted style). */
export interface AllowedOrigin {
  protocol: string;
  host: string;
  subdomains: boolean;
}

/**
 * Where output images may be downloaded from: the RunPod API's host (its workers' own
 * `/files`) and the configured S3 endpoint, with its buckets as subdomains. Anything else a
 * worker names (a metadata address, an internal service, someone's server) is refused: the
 * Worker would otherwise fetch it with its own network position and store what it got.
 *
 * @example
 * allowedImageOrigins({ RUNPOD_API_BASE: "https://api.runpod.ai/v2", S3_ENDPOINT: undefined })
 * // [{ protocol: "https:", host: "api.runpod.ai", subdomains: false }]
 */
export function allowedImageOrigins(
  config: Pick<Config, "RUNPOD_API_BASE" | "S3_ENDPOINT">,
): AllowedOrigin[] {
  const origins: AllowedOrigin[] = [];
  const runpod = new URL(config.RUNPOD_API_BASE);
  origins.push({ protocol: runpod.protocol, host: runpod.host, subdomains: false });
  if (config.S3_ENDPOINT) {
    const s3 = new URL(config.S3_ENDPOINT);
    origins.push({ protocol: s3.protocol, host: s3.host, subdomains: true });
  }
  return origins;
}

function isAllowed(url: URL, allowed: AllowedOrigin[]): boolean {
  return allowed.some(
    (origin) =>
      url.protocol === origin.protocol &&
      (url.host === origin.host || (origin.subdomains && url.host.endsWith(`.${origin.host}`))),
  );
}

function parseUrl(raw: string, base?: string): URL {
  try {
    return new URL(raw, base);
  } catch {
    throw new OutputError("an output image URL is not a URL");
  }
}

/**
 * Downloads an output image from an allowed host: redirects are followed only to allowed
 * hosts and at most `MAX_REDIRECTS` times, and the body is counted as it streams, so a
 * response past `maxBytes` is cut off there, with or without a `Content-Length`.
 *
 * @throws {OutputError} for a refused host, a 403/404, or an image over `maxBytes` (permanent);
 * other errors (5xx, network) are transient.
 */
export async function downloadImage(rawUrl: string, limits: DownloadLimits): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let url = parseUrl(rawUrl);
  for (let hop = 0; ; hop++) {
    if (!isAllowed(url, limits.allowed)) {
      throw new OutputError(`an output image URL points at a host that is not allowed (${url.host})`);
    }
    const response = await limits.fetch(url.toString(), { redirect: "manual", signal });
    const location = response.headers.get("Location");
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new OutputError("an output image URL redirects too many times");
      url = parseUrl(location, url.toString());
      continue;
    }
    if (response.status === 404 || response.status === 403) {
      await response.body?.cancel();
      throw new OutputError(`an output image URL answered ${response.status}`);
    }
    // Anything else not OK may pass (a 5xx, a throttled bucket): thrown as a transient error.
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`downloading an output image failed: HTTP ${response.status}`);
    }
    return readCapped(response, limits.maxBytes);
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) throw new OutputError("an output image URL answered no body");
  // A declared size over the cap is refused unread; an undeclared or false one is counted below.
  if (Number(response.headers.get("Content-Length") ?? 0) > maxBytes) {
    await response.body.cancel();
    throw new OutputError("an output image is too large");
  }
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new OutputError("an output image is too large");
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
