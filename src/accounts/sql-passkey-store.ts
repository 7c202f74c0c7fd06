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
      const rows =
        await db.all(sql`INSERT INTO passkeys (${COLUMNS}) VALUES (${p.id}, ${p.user_id}, ${p.credential_id},
        ${p.public_key}, ${p.counter}, ${p.transports === null ? null : JSON.stringify(p.transports)}, ${p.device_type},
        ${p.backed_up ? 1 : 0}, ${p.aaguid}, ${p.name}, ${p.created_at}, ${p.last_used_at})
        ON CONFLICT (credential_id) DO NOTHING RETURNING id`);
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
      // One statement: the EXISTS and the DELETE see the same rows (D1 runs one statement at a
      // time; on PostgreSQL the route should hold the user's row lock, see passkey-store.ts).
      const deleted = await db.all(sql`DELETE FROM passkeys WHERE id = ${id} AND user_id = ${userId}
        AND EXISTS (SELECT 1 FROM passkeys WHERE user_id = ${userId} AND id <> ${id}) RETURNING id`);
      if (deleted.length > 0) return "deleted";
      const kept = await db.all(sql`SELECT 1 AS one FROM passkeys WHERE id = ${id} AND user_id = ${userId}`);
      return kept.length > 0 ? "last" : "missing";
    },
  };
}
