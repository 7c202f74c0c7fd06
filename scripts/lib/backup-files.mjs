// Backups as plain folders (`<table>.ndjson` + `manifest.json`), the sink/source shapes of
// src/ops/backup: BackupSink.write(name, chunks) and BackupSource.read(name).
import { createReadStream, createWriteStream } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";

/** Writes each file into `dir` (created when missing), streaming. */
export function directorySink(dir) {
  return {
    async write(name, chunks) {
      await mkdir(dir, { recursive: true });
      const out = createWriteStream(path.join(dir, name));
      let bytes = 0;
      try {
        for await (const chunk of chunks) {
          const buffer = Buffer.from(chunk, "utf8");
          bytes += buffer.length;
          if (!out.write(buffer)) await new Promise((resolve) => out.once("drain", resolve));
        }
      } finally {
        out.end();
        await finished(out);
      }
      return bytes;
    },
  };
}

/** Reads files from `dir` as web streams; null for a file that is not there. */
export function directorySource(dir) {
  return {
    async read(name) {
      const file = path.join(dir, name);
      try {
        await access(file);
      } catch {
        return null;
      }
      return Readable.toWeb(createReadStream(file));
    },
  };
}
