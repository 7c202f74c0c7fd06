import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { cborEncode } from "./cbor";

/**
 * A software passkey for tests: an ES256 (P-256) key pair from WebCrypto that answers
 * creation and request options the way a platform authenticator in a browser would
 * (attestation "none", discoverable, user handle returned on login). Its payloads are real:
 * @simplewebauthn/server verifies them exactly as it would a phone's.
 *
 * Every ceremony can be bent to test refusals: another origin or RP id in what is signed,
 * a chosen signature counter.
 */

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;
const COSE_ES256 = -7;

export function b64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function uint32be(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** An ASN.1 INTEGER of a big-endian unsigned value: minimal length, positive. */
function derInteger(raw: Uint8Array): Uint8Array {
  let i = 0;
  while (i < raw.length - 1 && raw[i] === 0) i++;
  let body: Uint8Array = raw.slice(i);
  if ((body[0] ?? 0) & 0x80) body = concat(Uint8Array.of(0), body);
  return concat(Uint8Array.of(0x02, body.length), body);
}

/** WebCrypto signs ECDSA as r||s; WebAuthn wants the DER `SEQUENCE { r, s }` that authenticators send. */
function derSignature(raw: Uint8Array): Uint8Array {
  const seq = concat(derInteger(raw.slice(0, 32)), derInteger(raw.slice(32)));
  return concat(Uint8Array.of(0x30, seq.length), seq);
}

export interface CeremonyOverrides {
  /** The origin written into clientDataJSON (a phishing page's, say). */
  origin: string;
  /** The RP id whose hash goes into authenticatorData; the options' by default. */
  rpId?: string;
  /** The signature counter to report; by default one more than the last. */
  counter?: number;
  /** Another challenge than the options' (to answer a challenge never issued). */
  challenge?: string;
}

export class SoftAuthenticator {
  /** The user handle (base64url) from the options it registered with. */
  userHandle: string | null = null;
  counter = 0;

  private constructor(
    private readonly keys: CryptoKeyPair,
    readonly credentialId: Uint8Array,
    private readonly backupEligible: boolean,
  ) {}

  static async create(opts: { backupEligible?: boolean } = {}): Promise<SoftAuthenticator> {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    return new SoftAuthenticator(
      keys,
      crypto.getRandomValues(new Uint8Array(32)),
      opts.backupEligible ?? true,
    );
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  private flags(extra: number): number {
    return FLAG_UP | FLAG_UV | extra | (this.backupEligible ? FLAG_BE | FLAG_BS : 0);
  }

  private async coseKey(): Promise<Uint8Array> {
    const raw = new Uint8Array((await crypto.subtle.exportKey("raw", this.keys.publicKey)) as ArrayBuffer);
    // raw = 0x04 || x || y
    return cborEncode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, COSE_ES256], // alg
        [-1, 1], // crv: P-256
        [-2, raw.slice(1, 33)],
        [-3, raw.slice(33, 65)],
      ]),
    );
  }

  private clientData(type: string, challenge: string, origin: string): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** Answers creation options as `navigator.credentials.create()` would. */
  async register(
    options: PublicKeyCredentialCreationOptionsJSON,
    overrides: CeremonyOverrides,
  ): Promise<RegistrationResponseJSON> {
    const rpId = overrides.rpId ?? options.rp.id ?? "";
    const counter = overrides.counter ?? 0;
    const clientDataJSON = this.clientData(
      "webauthn.create",
      overrides.challenge ?? options.challenge,
      overrides.origin,
    );
    const attested = concat(
      new Uint8Array(16), // AAGUID: zeros, as "none" attestation sends
      Uint8Array.of(this.credentialId.length >> 8, this.credentialId.length & 0xff),
      this.credentialId,
      await this.coseKey(),
    );
    const authData = concat(
      await sha256(new TextEncoder().encode(rpId)),
      Uint8Array.of(this.flags(FLAG_AT)),
      uint32be(counter),
      attested,
    );
    const attestationObject = cborEncode({ fmt: "none", attStmt: {}, authData });
    this.userHandle = options.user.id;
    this.counter = counter;
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ["internal", "hybrid"],
        publicKeyAlgorithm: COSE_ES256,
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** Answers request options as `navigator.credentials.get()` would with this discoverable credential. */
  async login(
    options: PublicKeyCredentialRequestOptionsJSON,
    overrides: CeremonyOverrides,
  ): Promise<AuthenticationResponseJSON> {
    const rpId = overrides.rpId ?? options.rpId ?? "";
    const counter = overrides.counter ?? this.counter + 1;
    this.counter = Math.max(this.counter, counter);
    const clientDataJSON = this.clientData(
      "webauthn.get",
      overrides.challenge ?? options.challenge,
      overrides.origin,
    );
    const authenticatorData = concat(
      await sha256(new TextEncoder().encode(rpId)),
      Uint8Array.of(this.flags(0)),
      uint32be(counter),
    );
    const signed = concat(authenticatorData, await sha256(clientDataJSON));
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.keys.privateKey, signed),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authenticatorData),
        signature: b64url(derSignature(raw)),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}
