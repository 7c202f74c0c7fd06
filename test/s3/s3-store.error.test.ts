import { describe, expect, it } from "vitest";
import { S3ImageStore, S3StoreError } from "../../src/storage/s3-store";
import { countingFetch, pngBytes, s3Options, uniqueKey } from "./env";

const WRONG_SECRET = "wrong-secret-never-in-messages";

function s3Error(status: number, code: string): Response {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`;
  return new Response(xml, { status, headers: { "Content-Type": "application/xml" } });
}

async function failure(promise: Promise<unknown>): Promise<S3StoreError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(S3StoreError);
  return error as S3StoreError;
}

describe("S3ImageStore failures", () => {
  it("rejects a wrong secret with 403 SignatureDoesNotMatch and does not retry it", async () => {
    const transport = countingFetch();
    const store = new S3ImageStore(s3Options({ secretAccessKey: WRONG_SECRET, fetch: transport.fetch }));

    const error = await failure(store.put(uniqueKey(), pngBytes(), "image/png"));

    expect(error.status).toBe(403);
    expect(error.code).toBe("SignatureDoesNotMatch");
    expect(error.operation).toBe("PutObject");
    expect(transport.calls).toHaveLength(1);
    expect(error.message).not.toContain(WRONG_SECRET);
    expect(error.message).not.toMatch(/Authorization|Signature=|StringToSign/);
  });

  it("rejects a wrong region as a malformed authorization, without retrying", async () => {
    const transport = countingFetch();
    const store = new S3ImageStore(s3Options({ region: "us-east-1", fetch: transport.fetch }));

    const error = await failure(store.get(uniqueKey()));

    expect(error.status).toBe(400);
    expect(error.code).toBe("AuthorizationHeaderMalformed");
    expect(transport.calls).toHaveLength(1);
  });

  it("has bytes changed on the way rejected by the signed payload hash", async () => {
    const transport = countingFetch(async (_call, request) => {
      const tampered = new Uint8Array(await request.arrayBuffer());
      tampered[100] = (tampered[100] ?? 0) ^ 0xff;
      return fetch(
        new Request(request.url, { method: request.method, headers: request.headers, body: tampered }),
      );
    });
    const store = new S3ImageStore(s3Options({ fetch: transport.fetch }));
    const key = uniqueKey();

    const error = await failure(store.put(key, pngBytes(), "image/png"));

    expect(error.status).toBe(400);
    expect(["BadDigest", "XAmzContentSHA256Mismatch"]).toContain(error.code);
    expect(transport.calls).toHaveLength(1);
    expect(await new S3ImageStore(s3Options()).get(key)).toBeNull();
  });

  it("retries a 503 and then succeeds against the real server", async () => {
    const transport = countingFetch((call) => (call === 1 ? s3Error(503, "ServiceUnavailable") : undefined));
    const store = new S3ImageStore(s3Options({ fetch: transport.fetch }));
    const key = uniqueKey();

    const { etag } = await store.put(key, pngBytes(), "image/png");

    expect(transport.calls.map((call) => call.method)).toEqual(["PUT", "PUT"]);
    expect((await new S3ImageStore(s3Options()).get(key))?.etag).toBe(etag);
  });

  it("retries 429 and network errors, re-signing each attempt", async () => {
    const transport = countingFetch((call) => {
      if (call === 1) return s3Error(429, "SlowDown");
      if (call === 2) throw new TypeError("Network connection lost.");
      return undefined;
    });
    const store = new S3ImageStore(s3Options({ fetch: transport.fetch }));

    expect(await store.get(uniqueKey())).toBeNull();
    expect(transport.calls).toHaveLength(3);
  });

  it("gives up after three attempts by default with the last status and code", async () => {
    const transport = countingFetch(() => s3Error(503, "ServiceUnavailable"));
    const store = new S3ImageStore(s3Options({ fetch: transport.fetch }));

    const error = await failure(store.get(uniqueKey()));

    expect(error.status).toBe(503);
    expect(error.code).toBe("ServiceUnavailable");
    expect(transport.calls).toHaveLength(3);
  });

  it("makes a single attempt when retries is 0", async () => {
    const transport = countingFetch(() => s3Error(500, "InternalError"));
    const store = new S3ImageStore(s3Options({ fetch: transport.fetch, retries: 0 }));

    const error = await failure(store.delete(uniqueKey()));

    expect(error.status).toBe(500);
    expect(transport.calls).toHaveLength(1);
  });

  it("reports a network failure after the last attempt as status 0", async () => {
    const transport = countingFetch(() => {
      throw new TypeError("Network connection lost.");
    });
    const store = new S3ImageStore(s3Options({ fetch: transport.fetch, retries: 1 }));

    const error = await failure(store.get(uniqueKey()));

    expect(error.status).toBe(0);
    expect(error.code).toBe("NetworkError");
    expect(transport.calls).toHaveLength(2);
  });

  it("fails instead of answering null when the bucket does not exist", async () => {
    const store = new S3ImageStore(s3Options({ bucket: `missing-${crypto.randomUUID()}` }));

    const error = await failure(store.get(uniqueKey()));

    expect(error.status).toBe(404);
    expect(error.code).toBe("NoSuchBucket");
  });
});
