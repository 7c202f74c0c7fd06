import { createHash } from "node:crypto";
import zlib from "node:zlib";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BYTES_PER_PIXEL = 3;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (ISO 3309) as PNG chunks need it; uses zlib's native one when Node has it.
 * @param {Buffer} bytes
 * @returns {number}
 */
export function crc32(bytes) {
  if (typeof zlib.crc32 === "function") return zlib.crc32(bytes);
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * Encodes 8-bit RGB scanlines (each already prefixed with its filter byte) as a PNG.
 * @param {number} width
 * @param {number} height
 * @param {Buffer} filteredRows height * (1 + width * 3) bytes
 * @returns {Buffer}
 */
export function encodePng(width, height, filteredRows) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour RGB
  // Rows repeat a short stripe period, so the fastest zlib level still compresses them well.
  const idat = zlib.deflateSync(filteredRows, { level: 1 });
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function paletteFrom(prompt, seed, index) {
  const digest = createHash("sha256").update(`${prompt}\u0000${seed}\u0000${index}`).digest();
  return {
    top: [digest[0], digest[1], digest[2]],
    bottom: [digest[3], digest[4], digest[5]],
    tint: [digest[6], digest[7], digest[8]],
    stripeWidth: 8 + (digest[9] % 57),
  };
}

const mix = (a, b, t) => Math.round(a + (b - a) * t);

/**
 * Renders a deterministic picture for (prompt, seed): a vertical gradient crossed by stripes,
 * every colour taken from a hash, so equal inputs give equal bytes and any change shows.
 * @example
 * const png = renderImage({ prompt: "a red fox", seed: 42, width: 512, height: 768 });
 * @param {{prompt: string, seed: number, width: number, height: number, index?: number}} params
 * @returns {Buffer} PNG bytes
 */
export function renderImage({ prompt, seed, width, height, index = 0 }) {
  const { top, bottom, tint, stripeWidth } = paletteFrom(prompt, seed, index);
  const rowBytes = 1 + width * BYTES_PER_PIXEL;
  const rows = Buffer.allocUnsafe(rowBytes * height);
  const period = Buffer.allocUnsafe(stripeWidth * 2 * BYTES_PER_PIXEL);
  for (let y = 0; y < height; y++) {
    const t = height > 1 ? y / (height - 1) : 0;
    const base = [0, 1, 2].map((c) => mix(top[c], bottom[c], t));
    const tinted = base.map((value, c) => (value + tint[c]) >> 1);
    // Stripes drift by one pixel every few rows, which gives diagonals at the cost of one fill per row.
    const shift = (y >> 2) % (stripeWidth * 2);
    for (let x = 0; x < stripeWidth * 2; x++) {
      const colour = (x + shift) % (stripeWidth * 2) < stripeWidth ? base : tinted;
      period[x * 3] = colour[0];
      period[x * 3 + 1] = colour[1];
      period[x * 3 + 2] = colour[2];
    }
    const start = y * rowBytes;
    rows[start] = 0; // filter: none
    rows.fill(period, start + 1, start + rowBytes);
  }
  return encodePng(width, height, rows);
}
