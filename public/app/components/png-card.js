/**
 * Reads the character card a PNG carries (base64 JSON in a `chara` or `ccv3` text chunk), in the
 * browser, so the import can check things before uploading: is this a card at all, and do we
 * have it already? The server reads the same file again and has the last word.
 */

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const KEYWORDS = new Set(["chara", "ccv3"]);

/**
 * @param {ArrayBuffer} buffer
 * @returns {Promise<{isPng: boolean, card: any}>} `card` is the parsed JSON, null when the PNG has
 *   no card chunk; `undefined` when a chunk is there but unreadable
 */
export async function readPngCard(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 8 || SIGNATURE.some((value, i) => bytes[i] !== value))
    return { isPng: false, card: null };
  const view = new DataView(buffer);
  const latin1 = new TextDecoder("latin1");
  let found = null;
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = latin1.decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length));
    if (type === "IEND") break;
    if (type === "tEXt" || type === "zTXt" || type === "iTXt") {
      const nul = data.indexOf(0);
      const keyword = latin1.decode(data.subarray(0, nul));
      // ccv3 (Character Card V3) wins over chara when a card carries both.
      if (nul > 0 && KEYWORDS.has(keyword) && (found === null || keyword === "ccv3")) {
        found = { type, keyword, data: data.subarray(nul + 1) };
      }
    }
    at += 12 + length;
  }
  if (!found) return { isPng: true, card: null };
  try {
    const text = await chunkText(found);
    const json = new TextDecoder().decode(Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0)));
    return { isPng: true, card: JSON.parse(json) };
  } catch {
    return { isPng: true, card: undefined };
  }
}

async function chunkText({ type, data }) {
  const latin1 = new TextDecoder("latin1");
  if (type === "tEXt") return latin1.decode(data);
  if (type === "zTXt") return latin1.decode(await inflate(data.subarray(1)));
  // iTXt: compression flag, method, language\0, translated keyword\0, text.
  const compressed = data[0] === 1;
  let rest = data.subarray(2);
  rest = rest.subarray(rest.indexOf(0) + 1);
  rest = rest.subarray(rest.indexOf(0) + 1);
  return new TextDecoder().decode(compressed ? await inflate(rest) : rest);
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
