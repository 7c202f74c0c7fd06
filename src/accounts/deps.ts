import type { Config } from "../config";
import type { SqlClient } from "../db/sql-client";
import type { PasskeyDeps } from "./passkey-registration";
import { relyingParty } from "./relying-party";
import type { TokenDeps } from "./session-tokens";
import { sqlChallengeStore } from "./sql-challenge-store";
import { sqlPasskeyStore } from "./sql-passkey-store";
import { sqlSessionStore } from "./sql-session-store";

/**
 * The accounts services on the request's database connection: plain objects over the SQL
 * stores, so building them costs nothing beyond the connection the repository already opens.
 *
 * @example
 * const { tokens, passkeys } = accountsOn(c.var.services.repo.sql, c.var.services.config);
 */
export function accountsOn(
  db: SqlClient,
  config: Pick<Config, "JWT_SECRET" | "ACCESS_TOKEN_TTL_S" | "PUBLIC_BASE_URL" | "WEBAUTHN_RP_ID">,
): { tokens: TokenDeps; passkeys: PasskeyDeps } {
  return {
    tokens: {
      sessions: sqlSessionStore(db),
      jwtSecret: config.JWT_SECRET,
      accessTtlS: config.ACCESS_TOKEN_TTL_S,
    },
    passkeys: {
      challenges: sqlChallengeStore(db),
      passkeys: sqlPasskeyStore(db),
      rp: relyingParty(config),
    },
  };
}
