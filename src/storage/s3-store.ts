import { AwsClient } from "aws4fetch";
import { sha256Hex } from "../lib/crypto";
import type { ImageStore, StoredImage } from "./image-store";

/** Connection settings of an S3-compatible store (Yandex Object Storage, AWS, Swift s3api, ...). */
export interface S3StoreOptions {
  /** Origin of the S3 API, e.g. `https://storage.yandexcloud.net`; path-style URLs are built on it. */
  endpoint: string;
  /** Signing region, e.g. `ru-central1`. */
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Transport, injectable for tests; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Retries after the first attempt on network errors, 429 and 5xx; default 2 (3 attempts in all). */
  retries?: number;
}

type S3Operation = "PutObject" | "GetObject" | "DeleteObject" | "CreateBucket";

/**
 * A failed S3 call: `status` is the HTTP status (0 when the network failed) and `code`
 * the S3 error code from the XML body (`SignatureDoesNotMatch`, `NoSuchBucket`, ...).
 * Messages never carry credentials or request headers.
 */
export class S3StoreError extends Error {
  override readonly name = "S3StoreError";

  constructor(
    readonly operation: S3Operation,
    readonly status: number,
    readonly code: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`S3 ${operation} failed: ${status} ${code}${detail ? `: ${detail}` : ""}`, options);
  }
}

const DEFAULT_RETRIES = 2;
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2_000;
const ERROR_BODY_LIMIT = 4_096;
/** Image keys never change content, so a CDN in front of the bucket may cache forever. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const BUCKET_EXISTS = new Set(["BucketAlreadyOwnedByYou", "BucketAlreadyExists"]);

/**
 * Images in an S3-compatible bucket, signed with SigV4 by aws4fetch.
 *
 * @example
 * const store = new S3ImageStore({
 *   endpoint: "https://storage.yandexcloud.net", region: "ru-central1", bucket: "art",
 *   accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY,
 * });
 * const { etag } = await store.put("img/abc.png", bytes, "image/png");
 */
export class S3ImageStore implements ImageStore {
  readonly #client: S3Client;

  constructor(options: S3StoreOptions) {
    this.#client = new S3Client(options);
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<{ etag: string }> {
    const body = ownBuffer(bytes);
    const payloadHash = await sha256Hex(body);
    const response = await this.#client.send("PutObject", "PUT", this.#client.objectUrl(key), {
      body,
      headers: {
        "Content-Type": contentType,
        "Cache-Control": IMMUTABLE,
        // Signing the payload makes the store reject bytes damaged on the way.
        "X-Amz-Content-Sha256": payloadHash,
      },
    });
    await response.body?.cancel();
    const etag = response.headers.get("ETag");
    if (!etag) throw new S3StoreError("PutObject", response.status, "MissingETag", "response had no ETag");
    return { etag };
  }

  async get(key: string): Promise<StoredImage | null> {
    const response = await this.#client.send("GetObject", "GET", this.#client.objectUrl(key), {
      acceptNotFound: true,
    });
    if (response.status === 404) return null;
    const contentType = response.headers.get("Content-Type") ?? "application/octet-stream";
    const etag = response.headers.get("ETag") ?? "";
    const length = Number.parseInt(response.headers.get("Content-Length") ?? "", 10);
    if (Number.isSafeInteger(length) && length >= 0 && response.body) {
      return { body: response.body, contentType, etag, size: length };
    }
    const body = await response.arrayBuffer();
    return { body, contentType, etag, size: body.byteLength };
  }

  async delete(key: string): Promise<void> {
    const response = await this.#client.send("DeleteObject", "DELETE", this.#client.objectUrl(key), {
      acceptNotFound: true,
    });
    await response.body?.cancel();
  }
}

/**
 * Creates the bucket unless it exists already (signed `PUT /<bucket>`); a bucket this
 * account owns, or one that exists, is success.
 *
 * @example
 * await ensureBucket({ endpoint: "http://127.0.0.1:8080", region: "ru-central1",
 *   bucket: "edge-art-images", accessKeyId: "test:tester", secretAccessKey: "testing" });
 */
export async function ensureBucket(options: S3StoreOptions): Promise<void> {
  const client = new S3Client(options);
  try {
    const response = await client.send("CreateBucket", "PUT", client.bucketUrl());
    await response.body?.cancel();
  } catch (error) {
    if (error instanceof S3StoreError && error.status === 409 && BUCKET_EXISTS.has(error.code)) return;
    throw error;
  }
}

interface SendOptions {
  body?: Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
  /** 404 with a missing key is an answer, not a failure (a missing bucket still fails). */
  acceptNotFound?: boolean;
}

/** Signs, sends and retries one S3 request; turns S3 error documents into `S3StoreError`. */
class S3Client {
  readonly #aws: AwsClient;
  readonly #fetch: typeof fetch;
  readonly #retries: number;
  readonly #base: string;

  constructor(options: S3StoreOptions) {
    // The store retries itself, with its own transport, so aws4fetch only signs.
    this.#aws = new AwsClient({
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      service: "s3",
      region: options.region,
      retries: 0,
    });
    const transport = options.fetch ?? fetch;
    // Called unbound: the Workers runtime rejects `fetch` invoked with a foreign `this`.
    this.#fetch = (input, init) => transport(input, init);
    this.#retries = Math.max(0, Math.floor(options.retries ?? DEFAULT_RETRIES));
    this.#base = `${options.endpoint.replace(/\/+$/, "")}/${encodeSegment(options.bucket)}`;
  }

  bucketUrl(): string {
    return this.#base;
  }

  objectUrl(key: string): string {
    const segments = key.split("/");
    // Empty, "." and ".." segments would be rewritten by URL normalisation into another key.
    if (segments.some((segment) => segment === "" || segment === "." || segment === "..")) {
      throw new TypeError("invalid object key: empty, '.' or '..' path segment");
    }
    return `${this.#base}/${segments.map(encodeSegment).join("/")}`;
  }

  async send(
    operation: S3Operation,
    method: string,
    url: string,
    options: SendOptions = {},
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.#retries;
      let response: Response;
      try {
        const request = await this.#aws.sign(url, { method, body: options.body, headers: options.headers });
        response = await this.#fetch(request);
      } catch (error) {
        if (last) {
          throw new S3StoreError(operation, 0, "NetworkError", describe(error), { cause: error });
        }
        await backoff(attempt);
        continue;
      }
      if (response.ok) return response;
      const retryable = response.status === 429 || response.status >= 500;
      if (retryable && !last) {
        await response.body?.cancel();
        await backoff(attempt);
        continue;
      }
      const { code, message } = parseError(await readLimited(response));
      if (response.status === 404 && options.acceptNotFound && code !== "NoSuchBucket") {
        return new Response(null, { status: 404 });
      }
      throw new S3StoreError(
        operation,
        response.status,
        code || response.statusText || "UnknownError",
        message,
      );
    }
  }
}

/** RFC 3986 encoding of one path segment, as SigV4 canonicalises it. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Exponential backoff with full jitter. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

async function readLimited(response: Response): Promise<string> {
  try {
    return (await response.text()).slice(0, ERROR_BODY_LIMIT);
  } catch {
    return "";
  }
}

/** Only `Code` and `Message` are kept: error documents also echo the request (StringToSign, ...). */
function parseError(xml: string): { code: string; message: string } {
  const field = (name: string) =>
    decodeXml(xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1] ?? "").trim();
  return { code: field("Code"), message: field("Message") };
}

function decodeXml(text: string): string {
  const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => entities[name] ?? "");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Bodies and digests need bytes over a plain ArrayBuffer; copy only a shared one. */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
