import type { BackupSink } from "./export";
import type { BackupSource } from "./restore";

/**
 * R2 multipart parts: all but the last must be the same size, at least 5 MiB. Memory held
 * while writing a file is about one part.
 */
export const PART_SIZE = 8 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = { ndjson: "application/x-ndjson", json: "application/json" };

function contentType(name: string): string {
  return CONTENT_TYPES[name.split(".").pop() ?? ""] ?? "application/octet-stream";
}

/** Collects bytes and hands them out in slices of exactly `size` (the last one shorter). */
class PartBuffer {
  private chunks: Uint8Array[] = [];
  private length = 0;

  constructor(private readonly size: number) {}

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.byteLength;
  }

  get full(): boolean {
    return this.length >= this.size;
  }

  get empty(): boolean {
    return this.length === 0;
  }

  /** The next `size` bytes (or everything, when fewer remain). */
  take(): Uint8Array {
    const n = Math.min(this.size, this.length);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0] as Uint8Array;
      const want = n - filled;
      if (head.byteLength <= want) {
        out.set(head, filled);
        filled += head.byteLength;
        this.chunks.shift();
      } else {
        out.set(head.subarray(0, want), filled);
        this.chunks[0] = head.subarray(want);
        filled += want;
      }
    }
    this.length -= n;
    return out;
  }
}

/**
 * Writes backup files under `prefix` in an R2 bucket. A file that fits in one part is one
 * `put`; a bigger one becomes a multipart upload of `partSize` parts, so a table of any size
 * is written with about one part in memory.
 *
 * @example
 * await exportDatabase(repo.sql, r2BackupSink(env.BACKUPS, "backups/2026-01-20/"));
 */
export function r2BackupSink(bucket: R2Bucket, prefix: string, partSize = PART_SIZE): BackupSink {
  const encoder = new TextEncoder();
  return {
    async write(name, chunks) {
      const key = `${prefix}${name}`;
      const options = { httpMetadata: { contentType: contentType(name) } };
      const buffer = new PartBuffer(partSize);
      let upload: R2MultipartUpload | undefined;
      const parts: R2UploadedPart[] = [];
      let bytes = 0;
      try {
        for await (const chunk of chunks) {
          const encoded = encoder.encode(chunk);
          bytes += encoded.byteLength;
          buffer.push(encoded);
          while (buffer.full) {
            upload ??= await bucket.createMultipartUpload(key, options);
            parts.push(await upload.uploadPart(parts.length + 1, buffer.take()));
          }
        }
        if (!upload) {
          await bucket.put(key, buffer.take(), options);
          return bytes;
        }
        if (!buffer.empty) parts.push(await upload.uploadPart(parts.length + 1, buffer.take()));
        await upload.complete(parts);
        return bytes;
      } catch (error) {
        await upload?.abort().catch(() => {});
        throw error;
      }
    },
  };
}

/** Reads a backup from `prefix` in an R2 bucket, streaming each file. */
export function r2BackupSource(bucket: R2Bucket, prefix: string): BackupSource {
  return {
    async read(name) {
      const object = await bucket.get(`${prefix}${name}`);
      return object ? object.body : null;
    },
  };
}
