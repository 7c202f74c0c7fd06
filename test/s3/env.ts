import { env } from "cloudflare:test";
import type { S3StoreOptions } from "../../src/storage/s3-store";

// Bindings set by vitest.s3.config.ts; not part of the generated Env.
const bindings = env as unknown as Record<string, unknown>;

function binding(name: string): string {
  const value = bindings[name];
  if (typeof value !== "string" || value === "") throw new Error(`binding ${name} is missing`);
  return value;
}

/** Options of the S3 server the global setup prepared, with per-test overrides. */
export function s3Options(overrides: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    endpoint: binding("S3_ENDPOINT"),
    region: binding("S3_REGION"),
    bucket: binding("S3_BUCKET"),
    accessKeyId: binding("S3_ACCESS_KEY_ID"),
    secretAccessKey: binding("S3_SECRET_ACCESS_KEY"),
    ...overrides,
  };
}

let png: Uint8Array | undefined;

/** A real PNG (a character card from test/fixtures); a fresh copy per call. */
export function pngBytes(): Uint8Array {
  if (!png) {
    const binary = atob(binding("TEST_PNG_BASE64"));
    png = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) png[i] = binary.charCodeAt(i);
  }
  return png.slice();
}

/** A key no other test uses, with slashes like the service's image keys. */
export function uniqueKey(name = "image.png"): string {
  return `test/${crypto.randomUUID()}/${name}`;
}

/** Counts the calls of a transport and lets a test answer some of them itself. */
export function countingFetch(
  answer: (call: number, request: Request) => Response | Promise<Response> | undefined = () => undefined,
) {
  const calls: { method: string; url: string }[] = [];
  const transport: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    calls.push({ method: request.method, url: request.url });
    return (await answer(calls.length, request)) ?? fetch(request);
  };
  return { calls, fetch: transport };
}

export async function bytesOf(body: ReadableStream<Uint8Array> | ArrayBuffer): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** Hex digest; comparing digests of large bodies is far faster than deep equality. */
export async function digestHex(algorithm: "MD5" | "SHA-256", bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(algorithm, bytes);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
