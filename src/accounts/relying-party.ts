import type { Config } from "../config";

/** Who passkeys are bound to: the relying party id (a registrable domain) and the web origin. */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

/**
 * The relying party of this deployment: `WEBAUTHN_RP_ID`, else the host of `PUBLIC_BASE_URL`;
 * the origin is always `PUBLIC_BASE_URL`'s (the web client is served from the same Worker).
 *
 * @example
 * relyingParty({ PUBLIC_BASE_URL: "https://art.example", WEBAUTHN_RP_ID: undefined })
 * // { id: "art.example", origin: "https://art.example", name: "art.example" }
 */
export function relyingParty(config: Pick<Config, "PUBLIC_BASE_URL" | "WEBAUTHN_RP_ID">): RelyingParty {
  const base = new URL(config.PUBLIC_BASE_URL);
  const id = config.WEBAUTHN_RP_ID ?? base.hostname;
  return { id, origin: base.origin, name: id };
}
