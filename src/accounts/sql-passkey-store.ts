import { sql } from "drizzle-orm";
import type { SqlClient } from "../db/sql-client";
import type { PasskeyRecord, PasskeyStore } from "./passkey-store";

const COLUMNS = sql.raw(
  "id, user_id, credential_id, public_key, counter, transports, device_type, backed_up, aaguid, name, created_at, last_used_at",
);

interface PasskeyRow extends Omit<PasskeyRecord, "transports" | "backed_up" | "counter"> {
  transports: string | null;
  backed_up: number | boolean;
  counter: number | string;
}

/** Rows as either backend returns them: JSON text, 0/1 or boolean, BIGINT as a string. */
function fromRow(row: PasskeyRow): PasskeyRecord {
  return {
    ...row,
    counter: Number(row.counter),
    backed_up: Boolean(row.backed_up),
    transports: row.transports === null ? null : (JSON.parse(row.transports) as string[]),
  };
}

/** `PasskeyStore` on D1 or PostgreSQL (the statements of `passkey-store.ts`). */
export function sqlPasskeyStore(db: SqlClient): PasskeyStore {
  return {
    async insert(p) {
      // The table indexes credential_id without a UNIQUE constraint, so the refusal of a
      // credential registered before is this NOT EXISTS (one statement: D1 runs one at a time;
      // on PostgreSQL two concurrent registrations of one authenticator are a client bug at worst).
      // In a SELECT list PostgreSQL reads untyped parameters as text: the casts type them.
      const time = sql.raw(db.dialect === "postgres" ? "TIMESTAMPTZ" : "TEXT");
      const rows = await db.all(sql`INSERT INTO passkeys (${COLUMNS})
        SELECT ${p.id}, ${p.user_id}, ${p.credential_id}, ${p.public_key}, CAST(${p.counter} AS INTEGER),
        ${JSON.stringify(p.transports ?? [])}, ${p.device_type}, CAST(${p.backed_up ? 1 : 0} AS INTEGER),
        ${p.aaguid}, ${p.name}, CAST(${p.created_at} AS ${time}), CAST(${p.last_used_at} AS ${time})
        WHERE NOT EXISTS (SELECT 1 FROM passkeys WHERE credential_id = ${p.credential_id}) RETURNING id`);
      return rows.length > 0;
    },
    async findByCredentialId(credentialId) {
      const [row] = await db.all<PasskeyRow>(
        sql`SELECT ${COLUMNS} FROM passkeys WHERE credential_id = ${credentialId}`,
      );
      return row ? fromRow(row) : null;
    },
    async recordUse(id, expectedCounter, newCounter, now) {
      const changed = await db.run(sql`UPDATE passkeys SET counter = ${newCounter}, last_used_at = ${now}
        WHERE id = ${id} AND counter = ${expectedCounter}`);
      return changed > 0;
    },
    async listByUser(userId) {
      const rows = await db.all<PasskeyRow>(
        sql`SELECT ${COLUMNS} FROM passkeys WHERE user_id = ${userId} ORDER BY created_at DESC, id DESC`,
      );
      return rows.map(fromRow);
    },
    async deleteUnlessLast(userId, id) {
      const owned = async () =>
        (await db.all(sql`SELECT 1 AS one FROM passkeys WHERE id = ${id} AND user_id = ${userId}`)).length >
        0;
      const deleteUnlessLast = sql`DELETE FROM passkeys WHERE id = ${id} AND user_id = ${userId}
        AND EXISTS (SELECT 1 FROM passkeys WHERE user_id = ${userId} AND id <> ${id})`;
      if (db.dialect === "postgres") {
        // Under READ COMMITTED two concurrent deletes of an account's last two passkeys could
        // both pass EXISTS; holding the user's row lock for the transaction serialises them.
        if (!(await owned())) return "missing";
        await db.batch([sql`SELECT 1 FROM users WHERE id = ${userId} FOR UPDATE`, deleteUnlessLast]);
        return (await owned()) ? "last" : "deleted";
      }
      // D1 runs one statement at a time: the EXISTS and the DELETE see the same rows.
      const deleted = await db.all(sql`${deleteUnlessLast} RETURNING id`);
      if (deleted.length > 0) return "deleted";
      return (await owned()) ? "last" : "missing";
    },
  };
}
