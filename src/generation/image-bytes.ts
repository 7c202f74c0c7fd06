import type { ImageExtension } from "./image-keys";
import { OutputError } from "./output-parser";

export interface SniffedImage {
  contentType: string;
  extension: ImageExtension;
  /** From the PNG header when present; null when the format's header is not read. */
  width: number | null;
  height: number | null;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: number[], offset = 0): boolean {
  return prefix.every((byte, i) => bytes[offset + i] === byte);
}

/**
 * What an image's bytes are, by their magic numbers (never by what the worker claims).
 *
 * @example
 * sniffImage(pngBytes) // { contentType: "image/png", extension: "png", width: 1024, height: 1024 }
 * @throws {OutputError} for anything but PNG, JPEG or WebP
 */
export function sniffImage(bytes: Uint8Array): SniffedImage {
  if (startsWith(bytes, PNG_SIGNATURE) && bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      contentType: "image/png",
      extension: "png",
      width: view.getUint32(16),
      height: view.getUint32(20),
    };
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff]))
    return { contentType: "image/jpeg", extension: "jpg", width: null, height: null };
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) {
    return { contentType: "image/webp", extension: "webp", width: null, height: null };
  }
  throw new OutputError("an output image is not a PNG, JPEG or WebP");
}

/** Decodes base64 (standard alphabet, padding optional). */
export function decodeBase64(base64: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(base64.replace(/\s+/g, ""));
  } catch {
    throw new OutputError("an output image is not valid base64");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
