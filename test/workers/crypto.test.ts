import { describe, expect, it } from "vitest";
import {
  base64url,
  constantTimeEqual,
  fromBase64urlText,
  hex,
  hmacHex,
  hmacKey,
  sha256Hex,
} from "../../src/lib/crypto";

describe("src/lib/crypto", () => {
  it("encodes hex", () => {
    expect(hex(new Uint8Array([0, 1, 15, 16, 255]))).toBe("00010f10ff");
    expect(hex(new Uint8Array([171, 205]).buffer)).toBe("abcd");
  });

  it("round-trips base64url without padding or +/ characters, UTF-8 included", () => {
    expect(base64url(new Uint8Array([251, 255]))).toBe("-_8");
    for (const text of ["", "a", "ab", "abc", '[1,"gen_01"]', "dragon 🐉 ж"]) {
      const encoded = base64url(text);
      expect(encoded).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(fromBase64urlText(encoded)).toBe(text);
    }
    expect(fromBase64urlText("not base64!")).toBeNull();
    expect(fromBase64urlText("a")).toBeNull();
  });

  it("computes HMAC-SHA256 (RFC 4231 test case 2) and SHA-256", async () => {
    expect(await hmacHex("Jefe", "what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    expect(await hmacHex("Jefe", "what do ya want for nothing?", 4)).toBe("5bdcc146");
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("imports each secret's key once", () => {
    expect(hmacKey("same secret")).toBe(hmacKey("same secret"));
    expect(hmacKey("same secret")).not.toBe(hmacKey("another secret"));
  });

  it("compares secrets: equal only when identical, whatever the lengths", async () => {
    expect(await constantTimeEqual("s3cret", "s3cret")).toBe(true);
    expect(await constantTimeEqual("s3cret", "s3creT")).toBe(false);
    expect(await constantTimeEqual("s3cret", "s3cret-longer")).toBe(false);
    expect(await constantTimeEqual("", "")).toBe(true);
    expect(await constantTimeEqual("", "x")).toBe(false);
  });
});
